"""The 工作看板 page (SUP-5): the authority's region at a glance, a department's own to-do, at one
address; each caller sees the dashboard its role gives. Every figure links to the list behind it; the
charts are server-side SVG (``evaluation.charts``) whose bars link to the same lists. The home page
gets a card that leads here."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from govdata.core.auth import Actor, DbSession
from govdata.core.errors import PermissionDenied
from govdata.evaluation import charts, dashboards
from govdata.evaluation.dashboard_auth import DASHBOARD_READ, DashboardReader, sees_department, sees_region
from govdata.web import home_card, nav_item, render, render_error

router = APIRouter(include_in_schema=False)

PAGE = "/evaluation/dashboard"
SCORES_SHOWN = 10
nav_item("工作看板", PAGE, DASHBOARD_READ, order=3)


def annual_report_href(year: int, fmt: str = "pdf") -> str:
    return f"/api/v1/reports/annual/{year}?format={fmt}"


def _count_axis(peak: int) -> float | None:
    """An axis for counts whose quarter ticks are whole numbers (a multiple of 4 at or above ``peak``)."""
    return float(4 * math.ceil(peak / 4)) if peak else None


def _region_charts(page: dict[str, Any]) -> dict[str, Any]:
    trends = page["trends"]
    return {
        "trend_applications": charts.columns(
            trends.labels,
            [charts.Series("共享申请", trends.applications)],
            title="近12个月共享申请（件）",
            hrefs=[f"{dashboards.SHARING}?tab=all"] * len(trends.labels),
            empty="近12个月没有共享申请",
        ),
        "trend_violations": charts.columns(
            trends.labels,
            [charts.Series("发现违规", trends.violations, colour=charts.SECOND)],
            title="近12个月发现的违规（条）",
            hrefs=[dashboards.VIOLATIONS] * len(trends.labels),
            empty="近12个月没有发现违规",
        ),
        "trend_batches": charts.columns(
            trends.labels,
            [charts.Series("归集批次", trends.batches)],
            title="近12个月入库的归集批次（个）",
            hrefs=["/region#departments"] * len(trends.labels),
            empty="近12个月没有入库的归集批次",
        ),
        "violation_split": charts.split_bar(
            [charts.Share(label, count, href=href) for _, label, count, href in page["violations"] if count],
            title="违规记录按状态",
            unit="条",
            empty="尚无违规记录",
        ),
        "score_bars": charts.horizontal_bars(
            [
                charts.Bar(f"{s['rank']}. {s['department_name']}", s["score"], href=s["href"])
                for s in page["scores"][:SCORES_SHOWN]
            ],
            title=f"{page['year']}年度考核得分前{SCORES_SHOWN}名",
            unit="分",
            maximum=100,
            empty="本年度的考核排名尚未产生",
        ),
        "department_bars": charts.horizontal_bars(
            [
                charts.Bar(
                    name,
                    count,
                    href=dashboards.violations_href(status="confirmed", department_id=department_id),
                    colour="#b42318",
                )
                for department_id, name, count in page["departments"][:10]
            ],
            title="已确认待整改违规最多的部门",
            unit="条",
            maximum=_count_axis(max((count for _, _, count in page["departments"]), default=0)),
            empty="没有已确认待整改的违规",
        ),
    }


@router.get(PAGE)
def dashboard_page(request: Request, session: DbSession, actor: DashboardReader) -> Response:
    if sees_region(actor):
        page = dashboards.region_dashboard(session, actor)
        return render(
            request,
            "evaluation/dashboard.html",
            actor,
            **page,
            **_region_charts(page),
            report_pdf=annual_report_href(page["year"]),
            report_html=annual_report_href(page["year"], "html"),
        )
    if sees_department(actor):
        page = dashboards.department_dashboard(session, actor)
        return render(request, "evaluation/dashboard_department.html", actor, **page)
    return render_error(request, PermissionDenied("工作看板只对主管部门和部门用户开放。"))


def _dashboard_card(session, actor: Actor) -> dict | None:
    """On the home page: a link to the caller's dashboard."""
    if sees_region(actor):
        return {"href": PAGE, "title": "全域监督看板", "text": "全市概况、月度趋势与最严重的逾期事项"}
    if sees_department(actor):
        return {"href": PAGE, "title": "本部门待办看板", "text": "逾期任务、待答复申请、待复核疑义与整改通知"}
    return None


home_card("evaluation/_dashboard_card.html", _dashboard_card, order=1)
