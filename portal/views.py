from portal import bp


@bp.get("/")
def start():
    return "portal"
