"""The annual report as a document: HTML (``templates/evaluation/report.html``, printable and readable
at phone width) and PDF (WeasyPrint, the same HTML with its print styles and a CJK font)."""

from __future__ import annotations

from govdata.core import clock
from govdata.evaluation.charts import fmt
from govdata.evaluation.report.figures import AnnualReport
from govdata.web import templates

TEMPLATE = "evaluation/report.html"


def _figure(value: float | int | None, unit: str = "") -> str:
    return "—" if value is None else fmt(round(float(value), 2), unit)


def render_html(report: AnnualReport, *, printing: bool = False) -> str:
    """The report as one self-contained HTML document (styles and charts inline, no script);
    ``printing`` leaves out the screen's rules (WeasyPrint reads media types, not widths)."""
    generated = report.generated_at.astimezone(clock.CHINA)
    return templates.env.get_template(TEMPLATE).render(
        report=report,
        figure=_figure,
        generated=generated.strftime("%Y年%m月%d日 %H:%M"),
        printing=printing,
    )


def render_pdf(report: AnnualReport) -> bytes:
    """The report as PDF: WeasyPrint lays the HTML out on A4 pages with the print styles."""
    # imported here, not at the top: WeasyPrint loads pango and its fonts (a second of start-up)
    # for the one route and command that print, not for every process that serves pages
    from weasyprint import HTML

    return HTML(string=render_html(report, printing=True)).write_pdf()
