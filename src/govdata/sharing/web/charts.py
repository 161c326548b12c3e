"""Server-side SVG charts of the usage page (SHR-7): calls per day, calls per resource, and how the
calls ended. Plain SVG as the quality charts are: no script, the page's CJK font, a ``<title>`` on
every bar with its exact figure, ``role="img"`` with a Chinese label."""

from __future__ import annotations

from datetime import date

from markupsafe import Markup, escape

FONT = "'WenQuanYi Micro Hei', 'Microsoft YaHei', 'PingFang SC', sans-serif"
OK, FAILED, GRID, TEXT, MUTED = "#1d4f91", "#b42318", "#e4e7ec", "#1f2937", "#6b7280"
OUTCOME_COLOURS = {
    "ok": "#067647",
    "denied": "#b42318",
    "invalid": "#dc6803",
    "limited": "#b54708",
    "not_found": "#98a2b3",
    "error": "#7a271a",
}


def _open(width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="share-chart" '
        f'role="img" aria-label="{escape(title)}" font-family="{FONT}">',
        f"<title>{escape(title)}</title>",
    ]


def _nice_max(value: int) -> int:
    """A round upper bound of the axis (1, 2, 5 × 10ⁿ) at or above ``value``."""
    if value <= 5:
        return 5
    step = 1
    while True:
        for factor in (1, 2, 5):
            if value <= factor * step * 5:
                return factor * step * 5
        step *= 10


def _empty(parts: list[str], width: int, height: int) -> Markup:
    parts.append(
        f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle" font-size="13" fill="{MUTED}">'
        "所选范围内没有调用记录</text></svg>"
    )
    return Markup("".join(parts))


def daily_calls(days: list[tuple[date, int, int]], *, title: str = "每日调用次数") -> Markup:
    """One stacked bar per day: answered calls below, refused or failed ones above."""
    width, height = 640, 240
    left, right, top, bottom = 44, 630, 28, 200
    parts = _open(width, height, title)
    if not days or not any(ok + failed for _, ok, failed in days):
        return _empty(parts, width, height)
    peak = _nice_max(max(ok + failed for _, ok, failed in days))
    plot_h = bottom - top
    for fraction in (0, 0.5, 1):
        y = bottom - plot_h * fraction
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{MUTED}">'
            f"{round(peak * fraction)}</text>"
        )
    slot = (right - left) / len(days)
    bar_w = max(slot * 0.7, 1.0)
    every = max(1, round(len(days) / 8))
    for index, (day, ok, failed) in enumerate(days):
        x = left + slot * index + (slot - bar_w) / 2
        ok_h = plot_h * ok / peak
        failed_h = plot_h * failed / peak
        tip = f"{day.isoformat()}：成功 {ok} 次，未成功 {failed} 次"
        if ok:
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - ok_h:.1f}" width="{bar_w:.1f}" height="{ok_h:.1f}" '
                f'fill="{OK}"><title>{tip}</title></rect>'
            )
        if failed:
            parts.append(
                f'<rect x="{x:.1f}" y="{bottom - ok_h - failed_h:.1f}" width="{bar_w:.1f}" '
                f'height="{failed_h:.1f}" fill="{FAILED}"><title>{tip}</title></rect>'
            )
        if index % every == 0:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11" '
                f'fill="{MUTED}">{day.month}-{day.day:02d}</text>'
            )
    parts.append(f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#98a2b3"/>')
    parts.append(
        f'<rect x="{left}" y="8" width="10" height="10" fill="{OK}"/>'
        f'<text x="{left + 14}" y="17" font-size="12" fill="{TEXT}">成功</text>'
        f'<rect x="{left + 56}" y="8" width="10" height="10" fill="{FAILED}"/>'
        f'<text x="{left + 70}" y="17" font-size="12" fill="{TEXT}">被拒绝或失败</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def resource_calls(rows: list[tuple[str, int]], *, title: str = "各资源调用次数") -> Markup:
    """One horizontal bar per resource, most called first."""
    width = 640
    row_h = 26
    height = max(80, 20 + row_h * len(rows))
    label_w, right = 220, 600
    parts = _open(width, height, title)
    if not rows:
        return _empty(parts, width, height)
    peak = max(count for _, count in rows) or 1
    for index, (name, count) in enumerate(rows):
        y = 10 + row_h * index
        bar = max((right - label_w) * count / peak, 2)
        shown = name if len(name) <= 14 else name[:13] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="{TEXT}">'
            f"{escape(shown)}<title>{escape(name)}</title></text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{bar:.1f}" height="16" rx="2" fill="{OK}">'
            f"<title>{escape(name)}：{count} 次</title></rect>"
            f'<text x="{label_w + bar + 6:.1f}" y="{y + 15}" font-size="12" fill="{TEXT}">{count}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def outcome_split(counts: dict[str, int], labels: dict[str, str], *, title: str = "调用结果") -> Markup:
    """One bar split by outcome, with a legend of counts and shares (wrapped onto more lines)."""
    width, left, right = 640, 10, 630
    total = sum(counts.values())
    if not total:
        return _empty(_open(width, 80, title), width, 80)
    bars, legend = [], []
    x, legend_x, legend_y = float(left), float(left), 52
    for outcome, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        if not count:
            continue
        share = count / total
        w = (right - left) * share
        colour = OUTCOME_COLOURS.get(outcome, MUTED)
        name = labels.get(outcome, outcome)
        bars.append(
            f'<rect x="{x:.1f}" y="10" width="{w:.1f}" height="28" fill="{colour}">'
            f"<title>{escape(name)}：{count} 次（{share:.1%}）</title></rect>"
        )
        x += w
        text = f"{name} {count}（{share:.0%}）"
        span = 24 + 13 * len(text)
        if legend_x + span > right and legend_x > left:
            legend_x, legend_y = float(left), legend_y + 22
        legend.append(
            f'<rect x="{legend_x:.1f}" y="{legend_y}" width="11" height="11" fill="{colour}"/>'
            f'<text x="{legend_x + 16:.1f}" y="{legend_y + 10}" font-size="13" fill="{TEXT}">{escape(text)}</text>'
        )
        legend_x += span
    height = legend_y + 26
    return Markup("".join([*_open(width, height, title), *bars, *legend, "</svg>"]))
