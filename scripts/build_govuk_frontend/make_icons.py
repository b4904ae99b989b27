"""Draw the council's own favicon, app icons and web manifest.

GOV.UK Frontend's icons are the GOV.UK crown, which is for services on GOV.UK
only. These replace them with a neutral mark: a white civic building on a
square in the council colour. Standard library only (zlib and struct write the
PNGs), so the same drawing comes out on any machine with no new dependency.

    python3 scripts/build_govuk_frontend/make_icons.py static/govuk-frontend/assets

writes, under that folder:

    images/council-icon.svg       rounded square, for rel=icon and the manifest
    images/council-icon.ico       16, 32 and 48 px (PNG inside), rel=icon
    images/council-icon-180.png   full square, rel=apple-touch-icon
    images/council-icon-192.png   full square, manifest "maskable"
    images/council-icon-512.png   full square, manifest "maskable"
    manifest.json

The shapes below are the only source: the SVG is written from them, and the
PNGs are rasterised from them (tests/views/test_frontend_assets.py renders
them again and compares pixels). To use a council's real logo instead,
replace these files and the headIcons block in templates/base.html together.
"""

from __future__ import annotations

import json
import math
import struct
import sys
import zlib
from pathlib import Path

# The colour of the square. Same blue as the theme-color the page template
# sends, so the browser's chrome and the icon match.
COLOUR = "#1d70b8"
FOREGROUND = "#ffffff"

# Everything is drawn on a 512 x 512 grid and scaled.
GRID = 512
CORNER_RADIUS = 96  # rounded variant only

# The building: pediment, architrave, four columns, two steps. It stays inside
# the central circle of radius 40% (204.8) that a "maskable" icon keeps
# visible whatever shape the platform crops it to.
PEDIMENT = ((256, 116), (392, 192), (120, 192))
RECTANGLES = (
    (136, 204, 376, 224),  # architrave: x0, y0, x1, y1
    (153, 236, 185, 340),  # columns
    (211, 236, 243, 340),
    (269, 236, 301, 340),
    (327, 236, 359, 340),
    (128, 348, 384, 368),  # steps
    (112, 376, 400, 396),
)

# Sub-scanlines per pixel row; across each scanline coverage is exact.
_SUBROWS = 8

FILES = {
    # name: (size, rounded corners)
    "images/council-icon-180.png": (180, False),
    "images/council-icon-192.png": (192, False),
    "images/council-icon-512.png": (512, False),
}
ICO_SIZES = (16, 32, 48)
SVG_NAME = "images/council-icon.svg"
ICO_NAME = "images/council-icon.ico"


def svg() -> str:
    points = " ".join(f"{x},{y}" for x, y in PEDIMENT)
    rects = "\n".join(
        f'    <rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}"/>'
        for x0, y0, x1, y1 in RECTANGLES
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">\n'
        "  <!-- Council service icon, drawn by"
        " scripts/build_govuk_frontend/make_icons.py -->\n"
        f'  <rect width="{GRID}" height="{GRID}" rx="{CORNER_RADIUS}" fill="{COLOUR}"/>\n'
        f'  <g fill="{FOREGROUND}">\n'
        f'    <polygon points="{points}"/>\n'
        f"{rects}\n"
        "  </g>\n"
        "</svg>\n"
    )


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))


def _background_span(y: float, rounded: bool) -> tuple[float, float] | None:
    if not 0 <= y < GRID:
        return None
    if not rounded:
        return (0.0, float(GRID))
    r = CORNER_RADIUS
    dy = max(r - y, y - (GRID - r), 0.0)
    inset = r - math.sqrt(r * r - dy * dy) if dy else 0.0
    return (inset, GRID - inset)


def _foreground_spans(y: float) -> list[tuple[float, float]]:
    spans = [(x0, x1) for x0, y0, x1, y1 in RECTANGLES if y0 <= y < y1]
    xs = []
    for (ax, ay), (bx, by) in zip(PEDIMENT, PEDIMENT[1:] + PEDIMENT[:1], strict=True):
        if (ay <= y < by) or (by <= y < ay):
            xs.append(ax + (y - ay) * (bx - ax) / (by - ay))
    if len(xs) == 2:
        spans.append((min(xs), max(xs)))
    return spans


def _add_span(partial: list[float], runs: list[int], x0: float, x1: float) -> None:
    """Add the coverage of [x0, x1) to a row: the pixels it covers in part go
    into `partial`, whole ones as a +1/-1 pair into the difference list `runs`."""
    x0, x1 = max(x0, 0.0), min(x1, float(len(partial)))
    if x1 <= x0:
        return
    first, last = int(math.floor(x0)), int(math.ceil(x1)) - 1
    if first == last:
        partial[first] += x1 - x0
        return
    partial[first] += first + 1 - x0
    partial[last] += x1 - last
    runs[first + 1] += 1
    runs[last] -= 1


def _row(partial: list[float], runs: list[int]) -> list[float]:
    whole = 0
    coverage = []
    for part, run in zip(partial, runs, strict=True):
        whole += run
        coverage.append(part + whole)
    return coverage


def render(size: int, rounded: bool) -> bytes:
    """RGBA pixels, row by row, top to bottom."""
    scale = GRID / size
    bg, fg = _rgb(COLOUR), _rgb(FOREGROUND)
    pixels: dict[tuple[float, float], bytes] = {}

    def pixel(alpha: float, white: float) -> bytes:
        if alpha <= 0:
            return b"\0\0\0\0"
        rgb = (
            round((b * (alpha - white) + f * white) / alpha) for b, f in zip(bg, fg, strict=True)
        )
        return bytes((*rgb, round(alpha * 255)))

    out = bytearray()
    for py in range(size):
        back, back_runs = [0.0] * size, [0] * size
        fore, fore_runs = [0.0] * size, [0] * size
        for sub in range(_SUBROWS):
            y = (py + (sub + 0.5) / _SUBROWS) * scale
            span = _background_span(y, rounded)
            if span:
                _add_span(back, back_runs, span[0] / scale, span[1] / scale)
            for x0, x1 in _foreground_spans(y):
                _add_span(fore, fore_runs, x0 / scale, x1 / scale)
        for b, f in zip(_row(back, back_runs), _row(fore, fore_runs), strict=True):
            alpha = min(b / _SUBROWS, 1.0)
            key = (alpha, min(f / _SUBROWS, alpha))
            if key not in pixels:
                pixels[key] = pixel(*key)
            out += pixels[key]
    return bytes(out)


def png(size: int, rgba: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    stride = size * 4
    raw = b"".join(b"\0" + rgba[i : i + stride] for i in range(0, len(rgba), stride))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def ico(images: list[tuple[int, bytes]]) -> bytes:
    """An .ico holding PNGs, which every current browser reads."""
    header = struct.pack("<HHH", 0, 1, len(images))
    offset = len(header) + 16 * len(images)
    entries, data = b"", b""
    for size, image in images:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(image), offset)
        offset += len(image)
        data += image
    return header + entries + data


def manifest() -> str:
    icons = [{"src": SVG_NAME, "type": "image/svg+xml", "sizes": "any", "purpose": "any"}]
    icons += [
        {"src": name, "type": "image/png", "sizes": f"{size}x{size}", "purpose": "maskable"}
        for name, (size, _) in FILES.items()
        if size != 180
    ]
    return json.dumps({"icons": icons}, indent=2) + "\n"


def write(assets: Path) -> list[Path]:
    (assets / "images").mkdir(parents=True, exist_ok=True)
    written = {
        SVG_NAME: svg().encode(),
        ICO_NAME: ico([(s, png(s, render(s, rounded=True))) for s in ICO_SIZES]),
        "manifest.json": manifest().encode(),
    }
    for name, (size, rounded) in FILES.items():
        written[name] = png(size, render(size, rounded))
    for name, data in written.items():
        (assets / name).write_bytes(data)
    return [assets / name for name in written]


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} ASSETS_DIR")
    for path in write(Path(sys.argv[1])):
        print(path)
