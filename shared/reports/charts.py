"""Charts as server-rendered SVG: readable without JavaScript, printable in the PDF pack
(WeasyPrint draws inline SVG), with a text alternative a screen reader hears first.

Each chart is a <figure>: its title, a sentence or two summing it up (the text
alternative, also shown to everyone), the SVG (role="img", labelled by both; every bar
or point carries a <title> with its exact value, which browsers show on hover), and a
legend as an HTML list. The table under the chart on every report page holds the same
numbers, so nothing is only in the picture.

Colours are from the GOV.UK palette, each at least 3:1 against white (WCAG 2.2 1.4.11);
stacked segments are parted by a white line so adjacent colours never merge. Only SVG
presentation attributes are used (no style attributes), as the CSP forbids inline styles.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from shared.reports.base import Chart, ValueKind
from shared.reports.values import format_value

PALETTE = (
    "#1d70b8",  # blue
    "#00703c",  # green
    "#912b88",  # purple
    "#d4351c",  # red
    "#505a5f",  # dark grey
    "#003078",  # dark blue
    "#85651a",  # brown
    "#4c2c92",  # indigo
)
TARGET_COLOUR = "#0b0c0c"

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 72, 16, 16, 56
_ids = itertools.count(1)


def _nice_step(span: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about `ticks` gridlines."""
    if span <= 0:
        return 1
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * power:
            return m * power
    return 10 * power  # pragma: no cover


def axis_label(value: float, kind: ValueKind) -> str:
    """A gridline's label, short: £1.2m, £350k, 95%, 1,200."""
    if kind == "money":
        pounds = value / 100
        sign = "-" if pounds < 0 else ""
        pounds = abs(pounds)
        if pounds >= 1_000_000:
            return f"{sign}£{pounds / 1_000_000:.3g}m"
        if pounds >= 1_000:
            return f"{sign}£{pounds / 1_000:.3g}k"
        return f"{sign}£{pounds:,.0f}"
    if kind == "percent":
        return f"{value / 100:g}%"
    return f"{value:,.0f}"


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def summarise(chart: Chart) -> str:
    """The chart in words, from its numbers: each series' total (or range, for rates)
    and its highest category; the target when there is one."""
    if not chart.categories or not chart.series:
        return "There is nothing to show."
    parts = []
    for series in chart.series:
        values = list(series.values)
        top = max(range(len(values)), key=lambda i: values[i])
        if chart.value_kind == "percent" or chart.kind == "line":
            low = min(range(len(values)), key=lambda i: values[i])
            parts.append(
                f"{series.name}: from {format_value(values[low], chart.value_kind)} "
                f"({chart.categories[low]}) to {format_value(values[top], chart.value_kind)} "
                f"({chart.categories[top]})."
            )
        else:
            parts.append(
                f"{series.name}: {format_value(sum(values), chart.value_kind)} in all, "
                f"the most in {chart.categories[top]} "
                f"({format_value(values[top], chart.value_kind)})."
            )
    if chart.target is not None:
        label = chart.target_label or "Target"
        parts.append(f"{label}: {format_value(chart.target, chart.value_kind)}.")
    return " ".join(parts)


def _range(chart: Chart) -> tuple[float, float]:
    if chart.kind == "stacked":
        ups = [sum(max(s.values[i], 0) for s in chart.series) for i in range(len(chart.categories))]
        downs = [
            sum(min(s.values[i], 0) for s in chart.series) for i in range(len(chart.categories))
        ]
        values = ups + downs
    else:
        values = [v for s in chart.series for v in s.values]
    if chart.target is not None:
        values.append(chart.target)
    return min([0, *values]), max([0, *values])


def render_chart(chart: Chart) -> Markup:
    """The chart as a <figure> of HTML and inline SVG."""
    n = next(_ids)
    title_id, summary_id = f"chart-{n}-title", f"chart-{n}-summary"
    summary = chart.summary or summarise(chart)
    out = [
        '<figure class="app-chart govuk-!-margin-0 govuk-!-margin-bottom-6">',
        f'<figcaption class="govuk-heading-s govuk-!-margin-bottom-1" id="{title_id}">'
        f"{escape(chart.title)}</figcaption>",
        f'<p class="govuk-body-s" id="{summary_id}">{escape(summary)}</p>',
    ]
    if chart.categories and chart.series:
        out.append(_svg(chart, title_id, summary_id))
        out.append(_legend(chart))
    out.append("</figure>")
    return Markup("".join(out))


def _svg(chart: Chart, title_id: str, summary_id: str) -> str:
    low, high = _range(chart)
    step = _nice_step(high - low)
    low = math.floor(low / step) * step
    high = max(math.ceil(high / step) * step, low + step)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [
        f'<svg class="app-chart__svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
        f'role="img" aria-labelledby="{title_id} {summary_id}" '
        'font-family="GDS Transport, arial, sans-serif" font-size="13" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    # Gridlines and their labels.
    tick = low
    while tick <= high + step / 2:
        ty = y(tick)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{"#0b0c0c" if tick == 0 else "#b1b4b6"}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#0b0c0c">'
            f"{escape(axis_label(tick, chart.value_kind))}</text>"
        )
        tick += step

    count = len(chart.categories)
    band = plot_w / count
    limit = max(4, int(band / 7.5))
    for i, category in enumerate(chart.categories):
        cx = LEFT + band * (i + 0.5)
        parts.append(
            f'<text x="{cx:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle" fill="#0b0c0c">'
            f"<title>{escape(category)}</title>{escape(_short(category, limit))}</text>"
        )

    if chart.kind == "line":
        parts.extend(_lines(chart, band, y))
    else:
        parts.extend(_bars(chart, band, y))

    if chart.target is not None:
        ty = y(chart.target)
        label = chart.target_label or "Target"
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{ty:.1f}" y2="{ty:.1f}" '
            f'stroke="{TARGET_COLOUR}" stroke-width="2" stroke-dasharray="6 4">'
            f"<title>{escape(label)}: {escape(format_value(chart.target, chart.value_kind))}"
            "</title></line>"
        )
        parts.append(
            f'<text x="{WIDTH - RIGHT}" y="{ty - 5:.1f}" text-anchor="end" fill="#0b0c0c">'
            f"{escape(label)} {escape(axis_label(chart.target, chart.value_kind))}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _bars(chart: Chart, band: float, y) -> list[str]:
    parts = []
    gap = band * 0.2
    stacked = chart.kind == "stacked" or len(chart.series) == 1
    width = (band - gap) if stacked else (band - gap) / len(chart.series)
    for i, category in enumerate(chart.categories):
        x0 = LEFT + band * i + gap / 2
        up = down = 0.0
        for s, series in enumerate(chart.series):
            value = series.values[i]
            if value == 0:
                continue
            if stacked:
                base = up if value > 0 else down
                top, bottom = (base + value, base) if value > 0 else (base, base + value)
                if value > 0:
                    up += value
                else:
                    down += value
                x = x0
            else:
                top, bottom = max(value, 0), min(value, 0)
                x = x0 + width * s
            y_top, y_bottom = y(top), y(bottom)
            words = f"{series.name}, {category}: {format_value(value, chart.value_kind)}"
            parts.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{width:.1f}" '
                f'height="{max(y_bottom - y_top, 0.5):.1f}" fill="{_colour(s)}" '
                f'stroke="#ffffff" stroke-width="1"><title>{escape(words)}</title></rect>'
            )
    return parts


def _lines(chart: Chart, band: float, y) -> list[str]:
    parts = []
    for s, series in enumerate(chart.series):
        points = [(LEFT + band * (i + 0.5), y(v)) for i, v in enumerate(series.values)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
        parts.append(
            f'<polyline points="{path}" fill="none" stroke="{_colour(s)}" stroke-width="3"/>'
        )
        for (px, py), category, value in zip(points, chart.categories, series.values, strict=True):
            words = f"{series.name}, {category}: {format_value(value, chart.value_kind)}"
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="4" fill="{_colour(s)}">'
                f"<title>{escape(words)}</title></circle>"
            )
    return parts


def _colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _legend(chart: Chart) -> str:
    items: Sequence[tuple[str, str, bool]] = [
        (s.name, _colour(i), False) for i, s in enumerate(chart.series)
    ]
    if chart.target is not None:
        items = [*items, (chart.target_label or "Target", TARGET_COLOUR, True)]
    if len(items) < 2:
        return ""
    out = ['<ul class="govuk-list app-chart__legend">']
    for name, colour, dashed in items:
        mark = (
            f'<line x1="0" x2="18" y1="7" y2="7" stroke="{colour}" stroke-width="2" '
            'stroke-dasharray="6 4"/>'
            if dashed
            else f'<rect width="14" height="14" fill="{colour}"/>'
        )
        out.append(
            '<li class="govuk-body-s govuk-!-margin-bottom-1">'
            f'<svg width="18" height="14" aria-hidden="true" focusable="false">{mark}</svg> '
            f"{escape(name)}</li>"
        )
    out.append("</ul>")
    return "".join(out)
