from flask import render_template

from portal import bp


@bp.get("/")
def start():
    return render_template("portal/start.html")
