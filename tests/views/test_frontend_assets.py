from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urljoin

from tests.views.pages import parse

VENDORED = Path(__file__).resolve().parents[2] / "static" / "govuk-frontend"


def _asset_urls(page) -> dict[str, list[str]]:
    return {
        "css": [link["href"] for link in page.select('link[rel="stylesheet"]')],
        "js": [s["src"] for s in page.select("script[src]")]
        + [link["href"] for link in page.select('link[rel="modulepreload"]')],
        "icons": [link["href"] for link in page.select('link[rel~="icon"], link[rel="manifest"]')],
    }


def test_every_stylesheet_and_script_in_the_page_is_served_with_its_content_type(client):
    urls = _asset_urls(parse(client.get("/")))
    assert urls["css"] and urls["js"]

    for url in urls["css"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype == "text/css", url
        assert b".govuk-button" in response.data
    for url in urls["js"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype in {"text/javascript", "application/javascript"}, url


def test_scripts_are_loaded_as_modules_at_the_end_of_the_body(client):
    page = parse(client.get("/"))

    scripts = page.select("script[src]")
    assert [s.get("type") for s in scripts] == ["module"]
    assert scripts[0].find_next_sibling() is None  # nothing after it in <body>
    assert scripts[0].parent.name == "body"


def test_app_js_imports_govuk_frontend_from_a_url_that_is_served_and_calls_init_all(client):
    response = client.get("/static/app.js")
    source = response.get_data(as_text=True)

    imported = re.search(r'import\s*\{\s*initAll\s*\}\s*from\s*"([^"]+)"', source).group(1)
    module = client.get(urljoin("/static/app.js", imported))
    assert module.status_code == 200
    assert b"initAll" in module.data
    assert "initAll();" in source


def test_fonts_and_images_the_css_refers_to_are_served_from_assets(client):
    css = client.get("/static/govuk-frontend/govuk-frontend.min.css").get_data(as_text=True)
    urls = sorted(set(re.findall(r"url\(([^)]+)\)", css)))
    fonts = [u for u in urls if u.startswith("/assets/fonts/")]
    assert len(fonts) == 4, urls

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
    assert client.get(next(u for u in fonts if u.endswith(".woff2"))).mimetype == "font/woff2"


def test_favicons_and_manifest_in_the_page_are_served(client):
    urls = _asset_urls(parse(client.get("/")))["icons"]
    assert "/assets/manifest.json" in urls

    for url in urls:
        assert client.get(url).status_code == 200, url


def test_assets_route_serves_nothing_outside_the_assets_folder(client):
    assert client.get("/assets/../VERSION").status_code == 404
    assert client.get("/assets/..%2fVERSION").status_code == 404
    assert client.get("/assets/fonts/missing.woff2").status_code == 404


def test_vendored_govuk_frontend_is_the_release_govuk_frontend_jinja_targets():
    # govuk-frontend-jinja 4.1.0 writes markup for GOV.UK Frontend 6.3.0 exactly.
    assert (VENDORED / "VERSION").read_text().strip() == "6.3.0"
    script = (VENDORED / "govuk-frontend.min.js").read_text()
    assert script.startswith('const version="6.3.0";')


def test_vendored_files_carry_no_sourcemap_references_we_do_not_serve():
    for name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
        assert "sourceMappingURL" not in (VENDORED / name).read_text(), name
    assert not list(VENDORED.rglob("*.map"))
