"""``govdata report annual 2026 --pdf report.pdf [--html report.html]``: the annual report (SUP-4)
written to files, with a progress bar over its sections.

The report is the data authority's: the command reads it as a named user (``--as``) or, by default,
as the first active authority officer of the node's data authority, with exactly that user's rights
(never as the platform, which may not read another capability's figures in anyone's name).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from govdata.core.cli import cli_session, console, err_console, reports_problems
from govdata.core.errors import InvalidInput
from govdata.evaluation.cli import as_authority
from govdata.evaluation.report.figures import SECTIONS, annual_report
from govdata.evaluation.report.render import render_html, render_pdf

report_app = typer.Typer(help="年度报告（HTML、PDF，含图表）", no_args_is_help=True)


@report_app.command("annual")
@reports_problems
def annual(
    year: Annotated[int, typer.Argument(help="年度，如 2026")],
    pdf: Annotated[Path | None, typer.Option("--pdf", help="写出 PDF 的路径")] = None,
    html: Annotated[Path | None, typer.Option("--html", help="写出 HTML 的路径")] = None,
    username: Annotated[
        str | None, typer.Option("--as", help="以哪个用户的身份生成（默认：主管部门的第一个在用账号）")
    ] = None,
) -> None:
    """生成年度报告：目录、归集、质量、共享、开放、违规与整改、各部门考核结果。"""
    if pdf is None and html is None:
        raise InvalidInput("请用 --pdf 或 --html 指定输出文件。")
    steps = len(SECTIONS) + (1 if html else 0) + (1 if pdf else 0)
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    )
    with cli_session() as session, bar:
        task = bar.add_task("正在汇总：总体情况与综合得分", total=steps)
        titles = [title for title, _ in SECTIONS]

        def advance(title: str) -> None:
            index = titles.index(title) + 1
            label = f"正在汇总：{titles[index]}" if index < len(titles) else "正在排版"
            bar.update(task, advance=1, description=label)

        report = annual_report(session, as_authority(session, username, "生成报告"), year, progress=advance)
        if html:
            html.write_text(render_html(report), encoding="utf-8")
            bar.update(task, advance=1)
        if pdf:
            pdf.write_bytes(render_pdf(report))
            bar.update(task, advance=1)
    for path in (html, pdf):
        if path:
            console.print(f"已写出 {path}（{path.stat().st_size:,} 字节）")
    if not report.has_data:
        console.print(f"[yellow]{year} 年度暂无考核数据，报告中已注明。[/yellow]")
