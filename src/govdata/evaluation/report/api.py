"""``GET /api/v1/reports/annual/{year}?format=html|pdf`` (SPEC §15 supervision, SUP-4): the annual
report as a printable HTML document or a PDF download, for the authority and the evaluator."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Path, Query
from starlette.responses import HTMLResponse, Response

from govdata.core.auth import DbSession
from govdata.core.schemas import ApiRoute
from govdata.evaluation.report.auth import ReportReader
from govdata.evaluation.report.figures import annual_report
from govdata.evaluation.report.render import render_html, render_pdf

router = APIRouter(prefix="/api/v1", tags=["监督考核"], route_class=ApiRoute)

PDF = "application/pdf"


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"


def report_href(year: int, format: str = "pdf") -> str:
    """Where the year's report is downloaded (the authority's dashboard links here)."""
    return f"/api/v1/reports/annual/{year}?format={format}"


def _attachment(year: int) -> str:
    name = f"{year}年度政务数据资源管理工作报告.pdf"
    return f"attachment; filename=\"annual-report-{year}.pdf\"; filename*=UTF-8''{quote(name)}"


@router.get(
    "/reports/annual/{year}",
    response_class=Response,
    summary="年度报告（HTML 或 PDF，含图表；主管部门和第三方评估机构）",
    responses={200: {"content": {"text/html": {}, PDF: {}}, "description": "年度报告"}},
)
def annual_report_document(
    session: DbSession,
    actor: ReportReader,
    year: Annotated[int, Path(ge=2000, le=2999, description="年度，如 2026")],
    format: Annotated[ReportFormat, Query(description="html：网页版；pdf：下载 PDF")] = ReportFormat.html,
) -> Response:
    report = annual_report(session, actor, year)
    if format is ReportFormat.html:
        return HTMLResponse(render_html(report))
    return Response(render_pdf(report), media_type=PDF, headers={"Content-Disposition": _attachment(year)})
