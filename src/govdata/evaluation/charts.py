"""Server-side SVG charts of evaluation: the annual report (SUP-4) and the dashboards (SUP-5).

Plain SVG in the look of the quality and usage charts (``quality/charts.py``, ``sharing/web/charts.py``):
no script, the page's CJK font, ``role="img"`` with a Chinese label, a ``<title>`` with the exact
figure on every bar and point, and an optional link per bar (``<a href>``) to the list behind it. The
same markup is shown on a page and printed by WeasyPrint into the report's PDF, so it uses nothing
WeasyPrint does not draw (no CSS classes for colours, no ``foreignObject``).

Three generic shapes:

* :func:`horizontal_bars`: one bar per label (departments by a measure), longest first if asked;
* :func:`columns`: one or two series of columns over time (per month);
* :func:`split_bar`: one bar split into shares (violations by status), with a legend.

The axis and layout helpers stay here rather than being shared with quality's and sharing's charts:
those capabilities sit below evaluation and may not import from it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif"
PRIMARY, SECOND, GRID, TEXT, MUTED, AXIS = "#1d4f91", "#dc6803", "#e4e7ec", "#1f2937", "#6b7280", "#98a2b3"
# the palette of shares, in order, when a share names no colour of its own
PALETTE = ("#1d4f91", "#067647", "#dc6803", "#b42318", "#6941c6", "#0e9384", "#98a2b3", "#7a271a")
WIDTH = 640


@dataclass(frozen=True)
class Bar:
    """One bar: its label, its value (``None``: not measured, drawn as a dashed outline), an optional
    link to the list behind the figure, and an optional colour."""

    label: str
    value: float | None
    href: str | None = None
    colour: str | None = None


@dataclass(frozen=True)
class Series:
    """One series of :func:`columns`: its name (the legend) and a value per label."""

    name: str
    values: Sequence[float | None]
    colour: str | None = None


@dataclass(frozen=True)
class Share:
    """One part of :func:`split_bar`."""

    label: str
    value: float
    colour: str | None = None
    href: str | None = None


def fmt(value: float | None, unit: str = "") -> str:
    """A figure as the charts print it: integers without decimals, others to two places at most."""
    if value is None:
        return "未测量"
    text = f"{int(value):,}" if float(value).is_integer() else f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{text}{unit}"


def nice_ceiling(value: float) -> float:
    """A round upper bound of an axis (1, 2, 2.5, 5 × 10ⁿ) at or above ``value`` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * power + 1e-9:
            return factor * power
    return 10 * power  # pragma: no cover - the loop ends at 10 × power


def _ticks(peak: float, values: Sequence[float]) -> tuple[float, ...]:
    """The fractions of the axis that get a grid line: quarters, or halves (or the ends alone) where
    a quarter (a half) of the axis would print a fraction of a count."""
    counts = all(float(v).is_integer() for v in values)
    if not counts or (peak / 4).is_integer():
        return (0, 0.25, 0.5, 0.75, 1)
    return (0, 0.5, 1) if (peak / 2).is_integer() else (0, 1)


def _open(width: int, height: float, title: str, css: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" class="{css}" '
        f'width="100%" role="img" aria-label="{escape(title)}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
    ]


def _linked(shape: str, href: str | None) -> str:
    return f'<a href="{escape(href)}">{shape}</a>' if href else shape


def _empty(title: str, message: str, css: str) -> Markup:
    parts = _open(WIDTH, 80, title, css)
    parts.append(
        f'<text x="{WIDTH / 2}" y="44" text-anchor="middle" font-size="13" fill="{MUTED}">'
        f"{escape(message)}</text></svg>"
    )
    return Markup("".join(parts))


def _shorten(text: str, size: int) -> str:
    return text if len(text) <= size else text[: size - 1] + "…"


def horizontal_bars(
    bars: Sequence[Bar],
    *,
    title: str,
    unit: str = "",
    maximum: float | None = None,
    empty: str = "暂无数据",
    css: str = "evaluation-chart",
) -> Markup:
    """One horizontal bar per label, in the order given; ``maximum`` fixes the axis (100 for scores
    and percentages), else it is rounded up from the largest value."""
    if not bars:
        return _empty(title, empty, css)
    row_h, top = 24, 26
    label_w, right = 190, WIDTH - 64
    height = top + row_h * len(bars) + 8
    values = [b.value for b in bars if b.value is not None]
    peak = maximum or nice_ceiling(max(values, default=0))
    parts = _open(WIDTH, height, title, css)
    for fraction in _ticks(peak, values):
        x = label_w + (right - label_w) * fraction
        parts.append(
            f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 6:.0f}" stroke="{GRID}"/>'
            f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" font-size="10" fill="{MUTED}">'
            f"{fmt(peak * fraction)}</text>"
        )
    for index, bar in enumerate(bars):
        y = top + row_h * index
        label = escape(bar.label)
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="{TEXT}">'
            f"{escape(_shorten(bar.label, 14))}<title>{label}</title></text>"
        )
        tip = f"<title>{label}：{escape(fmt(bar.value, unit))}</title>"
        if bar.value is None:
            shape = (
                f'<rect x="{label_w}" y="{y + 4}" width="40" height="14" fill="none" stroke="{AXIS}" '
                f'stroke-dasharray="4 3">{tip}</rect>'
            )
            parts.append(_linked(shape, bar.href))
            parts.append(f'<text x="{label_w + 46}" y="{y + 15}" font-size="11" fill="{MUTED}">未测量</text>')
            continue
        length = max((right - label_w) * min(max(bar.value, 0) / peak, 1), 1.5)
        shape = (
            f'<rect x="{label_w}" y="{y + 4}" width="{length:.1f}" height="14" rx="2" '
            f'fill="{bar.colour or PRIMARY}">{tip}</rect>'
        )
        parts.append(_linked(shape, bar.href))
        parts.append(
            f'<text x="{label_w + length + 6:.1f}" y="{y + 15}" font-size="11" fill="{TEXT}">'
            f"{escape(fmt(bar.value, unit))}</text>"
        )
    parts.append(
        f'<line x1="{label_w}" y1="{top - 4}" x2="{label_w}" y2="{height - 6:.0f}" stroke="{AXIS}"/></svg>'
    )
    return Markup("".join(parts))


def columns(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    unit: str = "",
    hrefs: Sequence[str | None] | None = None,
    empty: str = "暂无数据",
    css: str = "evaluation-chart",
) -> Markup:
    """Columns over time: one group per label (a month, say) with a column per series (one or two),
    a legend above when there are two; ``hrefs`` links each group to the list behind it."""
    if not labels or not series or not any(v for s in series for v in s.values if v):
        return _empty(title, empty, css)
    width, height = WIDTH, 250
    left, right, top, bottom = 48, WIDTH - 10, 34, 210
    plot_h = bottom - top
    peak = nice_ceiling(max((v or 0) for s in series for v in s.values))
    parts = _open(width, height, title, css)
    for fraction in _ticks(peak, [v for s in series for v in s.values if v is not None]):
        y = bottom - plot_h * fraction
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="10" fill="{MUTED}">'
            f"{fmt(peak * fraction)}</text>"
        )
    slot = (right - left) / len(labels)
    group_w = slot * 0.72
    col_w = group_w / len(series)
    every = max(1, math.ceil(len(labels) / 12))
    colours = [s.colour or (PRIMARY, SECOND)[i % 2] for i, s in enumerate(series)]
    for index, label in enumerate(labels):
        x0 = left + slot * index + (slot - group_w) / 2
        shapes = []
        for number, one in enumerate(series):
            value = one.values[index] if index < len(one.values) else None
            if not value:
                continue
            h = max(plot_h * min(value / peak, 1), 1.0)
            name = f"{escape(one.name)} " if len(series) > 1 else ""
            shapes.append(
                f'<rect x="{x0 + col_w * number:.1f}" y="{bottom - h:.1f}" width="{max(col_w - 1, 1):.1f}" '
                f'height="{h:.1f}" fill="{colours[number]}"><title>{escape(label)}：{name}'
                f"{escape(fmt(value, unit))}</title></rect>"
            )
        if shapes:
            href = hrefs[index] if hrefs and index < len(hrefs) else None
            parts.append(_linked("".join(shapes), href))
        if index % every == 0:
            parts.append(
                f'<text x="{x0 + group_w / 2:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}">{escape(label)}</text>'
            )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="{AXIS}"/>')
    if len(series) > 1:
        x = float(left)
        for number, one in enumerate(series):
            parts.append(
                f'<rect x="{x:.1f}" y="10" width="10" height="10" fill="{colours[number]}"/>'
                f'<text x="{x + 14:.1f}" y="19" font-size="12" fill="{TEXT}">{escape(one.name)}</text>'
            )
            x += 30 + 13 * len(one.name)
    parts.append("</svg>")
    return Markup("".join(parts))


def split_bar(
    shares: Sequence[Share],
    *,
    title: str,
    unit: str = "",
    empty: str = "暂无数据",
    css: str = "evaluation-chart",
) -> Markup:
    """One bar split into shares (in the order given), with a legend of the figures and their shares
    wrapped onto as many lines as they need."""
    total = sum(s.value for s in shares if s.value > 0)
    if not total:
        return _empty(title, empty, css)
    left, right = 10, WIDTH - 10
    bars, legend = [], []
    x, legend_x, legend_y = float(left), float(left), 52
    for index, share in enumerate(shares):
        if share.value <= 0:
            continue
        part = share.value / total
        w = (right - left) * part
        colour = share.colour or PALETTE[index % len(PALETTE)]
        figure = f"{fmt(share.value, unit)}（{part:.1%}）"
        bars.append(
            _linked(
                f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="28" fill="{colour}">'
                f"<title>{escape(share.label)}：{escape(figure)}</title></rect>",
                share.href,
            )
        )
        x += w
        text = f"{share.label} {fmt(share.value, unit)}（{part:.0%}）"
        span = 24 + 12.5 * len(text)
        if legend_x + span > right and legend_x > left:
            legend_x, legend_y = float(left), legend_y + 22
        legend.append(
            f'<rect x="{legend_x:.1f}" y="{legend_y}" width="11" height="11" fill="{colour}"/>'
            f'<text x="{legend_x + 16:.1f}" y="{legend_y + 10}" font-size="13" fill="{TEXT}">'
            f"{escape(text)}</text>"
        )
        legend_x += span
    return Markup("".join([*_open(WIDTH, legend_y + 26, title, css), *bars, *legend, "</svg>"]))
