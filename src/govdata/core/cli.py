"""What every capability's CLI needs: a console, a unit of work on the configured store, and
problems printed as clear messages (never a traceback) with a non-zero exit code."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import typer
from rich.console import Console
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.orm import Session

from govdata.core.auth import SYSTEM_ACTOR, Actor
from govdata.core.config import get_settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.errors import Problem

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)

F = TypeVar("F", bound=Callable)

# CLI commands act as the local operator: whoever can run them can read the data directory anyway.
CLI_ACTOR: Actor = SYSTEM_ACTOR


@contextmanager
def cli_session() -> Iterator[Session]:
    engine = make_engine(get_settings().resolved_database_url())
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            yield session
    finally:
        engine.dispose()


def reports_problems(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Problem as exc:
            err_console.print(f"[red]错误：[/red]{exc.detail}")
            for error in exc.extra.get("errors", [])[:20]:
                err_console.print(f"  - {error}")
            raise typer.Exit(2) from None
        except (OperationalError, ProgrammingError) as exc:
            if "no such table" in str(exc) or "does not exist" in str(exc):
                err_console.print(
                    "[red]错误：[/red]存储尚未初始化，请先运行 govdata init（或 govdata demo）。"
                )
            else:
                err_console.print(f"[red]错误：[/red]无法访问元数据库：{str(exc).splitlines()[0][:200]}")
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]
