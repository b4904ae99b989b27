from backoffice import bp


@bp.get("/sign-in")
def sign_in():
    return "sign in"
