from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import struct
import zlib
from pathlib import Path
from urllib.parse import urljoin

from tests.views.pages import parse

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "static" / "govuk-frontend"
MOJ_VENDORED = ROOT / "static" / "moj-frontend"
BUILD = ROOT / "scripts" / "build_govuk_frontend"

# SHA-256 of the GOV.UK crown icons that GOV.UK Frontend 6.3.0 ships
# (dist/govuk/assets/images/): favicon.ico, favicon.svg, govuk-icon-180.png,
# govuk-icon-192.png, govuk-icon-512.png, govuk-icon-mask.svg and
# govuk-opengraph-image.png. None may be served as ours.
CROWN_SHA256 = frozenset(
    {
        "dcd99aa1df9a5d4f631e65921c911ca6def7775a1c49caad7d01511adb62557f",
        "2ed10a5597b0c04baaec02a251b5b91bbe53999b9a07a6c63ece15e1cf56c529",
        "8fe4e0991c067785d04f38e9b1dc1d7cf4e0b29725300bf9cc9ba62c0b399054",
        "63a6c99cae48ef4e846c820f2005707ec019ad37851aa03724c9364be3a71136",
        "058107019d7cba9ea6da801a2ad8ca6abc2e40778f6ecc0383c19c3a42a8ea3a",
        "3746775d944f1f2ec68414a66f327414cc4287343a0ac0672f72f08db1fdc474",
        "ec769b07c1e4564230a4e1f7400d8b7cb2c8694b113f988d51d989cfbf855caa",
    }
)

ICON_RELS = ("icon", "apple-touch-icon", "mask-icon", "manifest")


def _asset_urls(page) -> dict[str, list[str]]:
    return {
        "css": [link["href"] for link in page.select('link[rel="stylesheet"]')],
        "js": [s["src"] for s in page.select("script[src]")]
        + [link["href"] for link in page.select('link[rel="modulepreload"]')],
        "icons": [
            link["href"]
            for link in page.find_all("link", href=True)
            if set(link.get("rel", [])) & set(ICON_RELS)
        ],
    }


def _stylesheet(client) -> str:
    (url,) = _asset_urls(parse(client.get("/")))["css"]
    return client.get(url).get_data(as_text=True)


def _css_urls(css: str) -> list[str]:
    return sorted({u.strip("'\"") for u in re.findall(r"url\(([^)]+)\)", css)})


def _make_icons():
    spec = importlib.util.spec_from_file_location("make_icons", BUILD / "make_icons.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """(width, height, RGBA rows) of an 8-bit RGBA PNG written without filters."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat = 8, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour_type = struct.unpack(">IIBB", body[:10])
            assert (depth, colour_type) == (8, 6), "expected 8-bit RGBA"
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    rows = [raw[i : i + stride] for i in range(0, len(raw), stride)]
    assert all(row[0] == 0 for row in rows), "make_icons.py writes unfiltered rows"
    return width, height, b"".join(row[1:] for row in rows)


def _ico_images(data: bytes) -> dict[int, bytes]:
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    images = {}
    for i in range(count):
        width, _, _, _, _, _, size, offset = struct.unpack(
            "<BBBBHHII", data[6 + 16 * i : 22 + 16 * i]
        )
        images[width or 256] = data[offset : offset + size]
    return images


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


def test_stylesheet_sets_text_in_arial_and_never_uses_gds_transport(client):
    # GDS Transport is licensed for services on GOV.UK only; this one is a council's.
    css = _stylesheet(client)

    assert "gds transport" not in css.lower()
    assert "@font-face" not in css
    assert "/assets/fonts/" not in css
    body_text = [
        declarations.replace(" ", "")
        for selectors, declarations in re.findall(r"([^{}]*)\{([^{}]*)\}", css)
        if ".govuk-body" in selectors.split(",")
    ]
    assert any("font-family:arial,sans-serif" in d for d in body_text), body_text
    families = {f.strip() for f in re.findall(r"font-family:([^;}]+)", css)}
    # Arial on screen; the print styles keep GOV.UK Frontend's plain sans-serif.
    assert families == {"arial,sans-serif", "sans-serif"}


def test_every_url_the_stylesheet_refers_to_is_served_from_assets(client):
    urls = [u for u in _css_urls(_stylesheet(client)) if not u.startswith("data:")]
    assert urls

    for url in urls:
        assert url.startswith("/assets/"), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.data == (VENDORED / "assets" / url.removeprefix("/assets/")).read_bytes()


def test_icons_and_manifest_in_the_page_are_served_and_none_is_the_crown(client):
    page = parse(client.get("/"))
    rels = {rel for link in page.find_all("link", href=True) for rel in link.get("rel", [])}
    assert {"icon", "apple-touch-icon", "manifest"} <= rels
    assert "mask-icon" not in rels  # the stock one is the crown's outline

    urls = _asset_urls(page)["icons"]
    manifest_url = "/assets/manifest.json"
    assert manifest_url in urls
    manifest = client.get(manifest_url).get_json(force=True)
    urls += [urljoin(manifest_url, icon["src"]) for icon in manifest["icons"]]

    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        name = url.rsplit("/", 1)[-1]
        assert "crown" not in name and "govuk" not in name, url
        assert hashlib.sha256(response.data).hexdigest() not in CROWN_SHA256, url


def test_icons_are_the_ones_make_icons_draws(client):
    make_icons = _make_icons()
    page = parse(client.get("/"))
    icon = page.select_one('link[rel="icon"][type="image/svg+xml"]')["href"]
    ico = page.select_one('link[rel="icon"]:not([type])')["href"]
    apple = page.select_one('link[rel="apple-touch-icon"]')["href"]

    svg = client.get(icon).get_data(as_text=True)
    assert svg == make_icons.svg()
    assert make_icons.COLOUR in svg and "crown" not in svg.lower()

    for size, image in _ico_images(client.get(ico).data).items():
        assert _png_pixels(image) == (size, size, make_icons.render(size, rounded=True)), size
    assert sorted(_ico_images(client.get(ico).data)) == list(make_icons.ICO_SIZES)

    assert _png_pixels(client.get(apple).data) == (180, 180, make_icons.render(180, False))
    manifest = client.get("/assets/manifest.json").get_json(force=True)
    assert manifest == json.loads(make_icons.manifest())
    for entry in manifest["icons"]:
        if entry["type"] == "image/png":
            size = int(entry["sizes"].split("x")[0])
            data = client.get(urljoin("/assets/manifest.json", entry["src"])).data
            assert _png_pixels(data) == (size, size, make_icons.render(size, False)), entry


def test_assets_route_serves_nothing_outside_the_assets_folder(client):
    assert client.get("/assets/../VERSION").status_code == 404
    assert client.get("/assets/..%2fVERSION").status_code == 404
    assert client.get("/assets/fonts/missing.woff2").status_code == 404


def test_vendored_govuk_frontend_is_the_release_govuk_frontend_jinja_targets():
    # govuk-frontend-jinja 4.1.0 writes markup for GOV.UK Frontend 6.3.0 exactly.
    version, sass = (VENDORED / "VERSION").read_text().splitlines()
    assert version == "6.3.0"
    script = (VENDORED / "govuk-frontend.min.js").read_text()
    assert script.startswith('const version="6.3.0";')
    css = (VENDORED / "govuk-frontend.min.css").read_text()
    assert re.search(r'--govuk-frontend-version:\s*"6\.3\.0"', css)

    # ...and the build pins the same release, and the sass that compiled it.
    pins = json.loads((BUILD / "package.json").read_text())["dependencies"]
    assert pins == {
        "govuk-frontend": version,
        "sass": sass.removeprefix("sass "),
        "@ministryofjustice/frontend": "11.1.0",
    }
    lock = json.loads((BUILD / "package-lock.json").read_text())["packages"]
    assert lock["node_modules/govuk-frontend"]["version"] == version
    assert lock["node_modules/sass"]["version"] == pins["sass"]


def test_vendored_files_carry_no_fonts_and_no_sourcemap_references_we_do_not_serve():
    for name in ("govuk-frontend.min.css", "govuk-frontend.min.js"):
        assert "sourceMappingURL" not in (VENDORED / name).read_text(), name
    assert not list(VENDORED.rglob("*.map"))
    assert not [p for p in VENDORED.rglob("*") if p.suffix in {".woff", ".woff2", ".ttf", ".otf"}]


# --- MOJ Frontend: the back office's case-work components --------------------------------

BACK_OFFICE_PAGE = "/backoffice/sign-in"
MOJ_CSS = "/static/moj-frontend/moj-frontend.min.css"
MOJ_JS = "/static/moj-frontend/moj-frontend.min.js"
BACK_OFFICE_JS = "/static/backoffice.js"


def test_back_office_pages_load_moj_frontend_after_govuk_frontend_and_portal_pages_do_not(client):
    back_office = _asset_urls(parse(client.get(BACK_OFFICE_PAGE)))
    portal = _asset_urls(parse(client.get("/")))

    # MOJ's stylesheet holds only its components: GOV.UK Frontend's comes first.
    assert back_office["css"] == portal["css"] + [MOJ_CSS]
    assert MOJ_JS in back_office["js"] and BACK_OFFICE_JS in back_office["js"]
    assert not [url for url in portal["css"] + portal["js"] if "moj" in url or "backoffice" in url]


def test_back_office_scripts_are_modules_at_the_end_of_the_body_with_moj_after_govuk(client):
    page = parse(client.get(BACK_OFFICE_PAGE))

    scripts = page.select("script[src]")
    assert [(s["src"], s.get("type")) for s in scripts] == [
        ("/static/app.js", "module"),
        (BACK_OFFICE_JS, "module"),
    ]
    assert scripts[-1].find_next_sibling() is None
    assert {s.parent.name for s in scripts} == {"body"}


def test_moj_stylesheet_and_script_are_served_from_our_own_origin(client):
    for url, mimetypes, marker in [
        (MOJ_CSS, {"text/css"}, b".moj-badge"),
        (MOJ_JS, {"text/javascript", "application/javascript"}, b"SortableTable"),
        (BACK_OFFICE_JS, {"text/javascript", "application/javascript"}, b"initAll"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.mimetype in mimetypes, url
        assert marker in response.data, url


def test_moj_stylesheet_has_the_components_the_back_office_uses_in_arial(client):
    css = client.get(MOJ_CSS).get_data(as_text=True)

    for selector in (
        ".moj-badge--red",
        ".moj-timeline__item",
        "[aria-sort] button",  # the sortable table's header buttons
        ".moj-sub-navigation__link",
        ".moj-filter-layout__filter",
        ".moj-scrollable-pane",
        ".moj-filter__tag",
        ".moj-action-bar",
        ".js-enabled .moj-js-hidden",
    ):
        assert selector in css, selector
    # None of GOV.UK Frontend's own rules: the back office loads those once, first.
    assert not re.search(r"(^|\})\.govuk-", css) and "--govuk-frontend-version" not in css
    assert "gds transport" not in css.lower() and "@font-face" not in css
    families = {f.strip() for f in re.findall(r"font-family:([^;}]+)", css)}
    # Arial on screen, plain sans-serif in print, and buttons inheriting the cell's font.
    assert families == {"arial,sans-serif", "sans-serif", "inherit"}


def test_every_url_the_moj_stylesheet_refers_to_is_served_and_none_is_a_crown(client):
    urls = _css_urls(client.get(MOJ_CSS).get_data(as_text=True))
    assert urls

    for url in urls:
        assert not url.startswith(("data:", "/", "http")), url  # relative to the stylesheet
        served = urljoin(MOJ_CSS, url)
        response = client.get(served)
        assert response.status_code == 200, url
        assert response.data == (MOJ_VENDORED / url).read_bytes()
        assert "crown" not in url and "crest" not in url and "logotype" not in url, url


def test_backoffice_js_starts_moj_components_from_the_vendored_module(client):
    source = client.get(BACK_OFFICE_JS).get_data(as_text=True)

    imports = dict(
        (path, {name.strip() for name in names.split(",")})
        for names, path in re.findall(r'import\s*\{([^}]*)\}\s*from\s*"([^"]+)"', source)
    )
    assert imports == {
        "./govuk-frontend/govuk-frontend.min.js": {"createAll"},
        "./moj-frontend/moj-frontend.min.js": {"FilterToggleButton", "initAll"},
    }
    for path, names in imports.items():
        module = client.get(urljoin(BACK_OFFICE_JS, path)).get_data(as_text=True)
        exported = re.search(r"export\{([^}]*)\}", module).group(1).split(",")
        assert names <= set(exported), path
    assert "initAll();" in source and "createAll(FilterToggleButton);" in source


def test_vendored_moj_frontend_is_the_pinned_release_built_against_our_govuk_frontend():
    moj, govuk, sass = (MOJ_VENDORED / "VERSION").read_text().splitlines()
    assert moj == "11.1.0"
    # Compiled in the same build as static/govuk-frontend/, from the same lockfile.
    govuk_version, govuk_sass = (VENDORED / "VERSION").read_text().splitlines()
    assert (govuk, sass) == (f"govuk-frontend {govuk_version}", govuk_sass)
    css = (MOJ_VENDORED / "moj-frontend.min.css").read_text()
    assert re.search(r'--moj-frontend-version:\s*"11\.1\.0"', css)
    assert 'const version="11.1.0";' in (MOJ_VENDORED / "moj-frontend.min.js").read_text()

    lock = json.loads((BUILD / "package-lock.json").read_text())["packages"]
    locked = lock["node_modules/@ministryofjustice/frontend"]
    assert locked["version"] == moj
    # MOJ Frontend 11 is built for GOV.UK Frontend 6: ours must be in its range.
    assert locked["peerDependencies"]["govuk-frontend"] == "^6.0.0"
    assert govuk_version.startswith("6.")


def test_vendored_moj_frontend_carries_no_sourcemaps_fonts_or_sass():
    for name in ("moj-frontend.min.css", "moj-frontend.min.js"):
        assert "sourceMappingURL" not in (MOJ_VENDORED / name).read_text(), name
    suffixes = {p.suffix for p in MOJ_VENDORED.rglob("*") if p.is_file()}
    assert suffixes <= {"", ".css", ".js", ".svg"}, suffixes
