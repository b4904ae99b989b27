"""Web plumbing shared by both faces: templates, assets, headers, error pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    pass
