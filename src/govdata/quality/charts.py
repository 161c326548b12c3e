"""Server-side SVG charts of the quality pages (NF-5: charts where people would rather look).

Two small charts — a bar per dimension and the overall score over time — written as plain SVG: no
JavaScript, no library from a CDN, text in the page's own (CJK) font, a ``<title>`` on every bar and
point for the exact figure, and ``role="img"`` with a Chinese label for screen readers. A charting
library (pygal) would add a dependency and its tooltip script for two shapes this size.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from govdata.core import clock

FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif"


def score_colour(score: float | None) -> str:
    if score is None:
        return "#98a2b3"
    if score >= 90:
        return "#067647"
    if score >= 70:
        return "#1d4f91"
    if score >= 50:
        return "#b54708"
    return "#b42318"


def _fmt(score: float | None) -> str:
    if score is None:
        return "未测量"
    return f"{score:.2f}".rstrip("0").rstrip(".")


def _grid(left: float, right: float, top: float, height: float) -> list[str]:
    parts = []
    for value in (0, 25, 50, 75, 100):
        y = top + height * (1 - value / 100)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="#e4e7ec" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">{value}</text>'
        )
    return parts


def dimension_bars(dimensions: dict[str, dict[str, Any]], *, title: str = "各维度得分") -> Markup:
    """One bar per dimension (0–100); a dashed outline where a dimension was not measured."""
    names = list(dimensions)
    width, height = 640, 250
    left, right, top, bottom = 40, 630, 24, 200
    plot_h = bottom - top
    slot = (right - left) / max(len(names), 1)
    bar_w = slot * 0.56
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="quality-chart" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        *_grid(left, right, top, plot_h),
    ]
    for index, name in enumerate(names):
        dim = dimensions[name]
        score = dim.get("score")
        x = left + slot * index + (slot - bar_w) / 2
        centre = x + bar_w / 2
        label = escape(dim.get("label", name))
        if score is None:
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - 24}" width="{bar_w:.1f}" height="24" fill="none" '
                f'stroke="#98a2b3" stroke-dasharray="4 3"><title>{label}：未测量</title></rect>'
                f'<text x="{centre:.1f}" y="{bottom - 30}" text-anchor="middle" font-size="12" '
                f'fill="#6b7280">未测量</text>'
            )
        else:
            bar_h = max(plot_h * score / 100, 1.5)
            y = bottom - bar_h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{bar_h:.1f}" rx="2" '
                f'fill="{score_colour(score)}"><title>{label}：{_fmt(score)} 分</title></rect>'
                f'<text x="{centre:.1f}" y="{y - 6:.1f}" text-anchor="middle" font-size="13" '
                f'font-weight="bold" fill="#1f2937">{_fmt(score)}</text>'
            )
        parts.append(
            f'<text x="{centre:.1f}" y="{bottom + 20}" text-anchor="middle" font-size="13" fill="#1f2937">{label}</text>'
        )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#98a2b3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def _local(moment: datetime) -> datetime:
    return moment.astimezone(clock.CHINA)


def overall_line(points: list[dict[str, Any]], *, title: str = "综合得分变化") -> Markup:
    """The overall score over time (time on a true scale); gaps where it was not measured."""
    width, height = 640, 220
    left, right, top, bottom = 40, 620, 16, 176
    plot_h = bottom - top
    dated = [p for p in points if p.get("computed_at") is not None]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="quality-chart" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
        *_grid(left, right, top, plot_h),
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#98a2b3"/>',
    ]
    if not dated:
        parts.append(
            f'<text x="{(left + right) / 2}" y="{(top + bottom) / 2}" text-anchor="middle" font-size="13" '
            f'fill="#6b7280">暂无历史记录</text></svg>'
        )
        return Markup("".join(parts))
    times = [p["computed_at"].timestamp() for p in dated]
    start, end = min(times), max(times)
    span = end - start

    def x_of(t: float) -> float:
        return (left + right) / 2 if span == 0 else left + (right - left) * (t - start) / span

    def y_of(score: float) -> float:
        return top + plot_h * (1 - score / 100)

    segments: list[list[str]] = [[]]
    dots = []
    for point, t in zip(dated, times, strict=True):
        score = point.get("overall")
        if score is None:
            segments.append([])
            continue
        x, y = x_of(t), y_of(score)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        when = _local(point["computed_at"]).strftime("%Y-%m-%d %H:%M")
        dots.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{score_colour(score)}">'
            f"<title>{when}：{_fmt(score)} 分</title></circle>"
        )
    for segment in segments:
        if len(segment) > 1:
            parts.append(
                f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1d4f91" stroke-width="2"/>'
            )
    parts.extend(dots)
    first, last = _local(dated[0]["computed_at"]), _local(dated[-1]["computed_at"])
    parts.append(
        f'<text x="{left}" y="{bottom + 20}" font-size="11" fill="#6b7280">{first:%Y-%m-%d %H:%M}</text>'
    )
    if span:
        parts.append(
            f'<text x="{right}" y="{bottom + 20}" text-anchor="end" font-size="11" fill="#6b7280">'
            f"{last:%Y-%m-%d %H:%M}</text>"
        )
    parts.append(
        f'<text x="{(left + right) / 2}" y="{bottom + 38}" text-anchor="middle" font-size="11" '
        f'fill="#6b7280">共 {len(dated)} 次评分</text></svg>'
    )
    return Markup("".join(parts))
