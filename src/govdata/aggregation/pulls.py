"""Scheduled pulls from a department's own database (AGG-2: 数据汇聚不改变现有业务系统的运行).

A department officer defines a pull on one of its published resources: an SQLAlchemy URL of its own
database (PostgreSQL, or an SQLite file), a table or one SELECT query, full or incremental by a
watermark column, a cron schedule, and the limits that keep the pull from slowing that system: a
local time window, a row rate and a timeout. Each run reads the rows into a Parquet file and hands
it to the ordinary batch pipeline (``service.create_batch``, whose job runs the batch), so a pulled batch
is validated, applied, reported and rolled back like an upload.

How the department's database is protected:

* read-only, twice. The query is checked first (one statement, SELECT or WITH, no data-changing
  keyword), only to give the officer a clear message; the guarantee is the connection itself.
  PostgreSQL: ``SET TRANSACTION READ ONLY`` before anything else (and checked with ``SHOW
  transaction_read_only``); every statement that would write, lock rows or take a sequence value
  fails there. SQLite: the file is opened with ``mode=ro`` (the OS-level open is read-only) and
  ``PRAGMA query_only=ON``. The transaction is always rolled back, never committed. Departments
  should still give the platform an account that can only read.
* timeout: ``timeout_seconds`` bounds how long the pull holds a connection to the source, from
  connect to the last row. PostgreSQL: ``SET LOCAL statement_timeout`` (re-set to the remaining time
  before each fetch of the server-side cursor) and ``idle_in_transaction_session_timeout``, so the
  server itself ends the session if this process stalls; SQLite: a progress handler interrupts the
  statement at the deadline. Throttling that would outlast the deadline stops the pull early.
* row rate: rows are fetched in chunks from a server-side cursor (SQLite steps its cursor lazily);
  after each chunk the pull sleeps until ``rows / max_rows_per_second`` seconds have passed, so the
  source produces rows no faster than that.
* time window: a run does not start outside ``window_start``–``window_end`` (China time; the window
  may cross midnight) and stops, reading no further, when the window ends during the run.

A run that stops (timeout, window, error) creates no batch: a partial read never replaces data.

Incremental pulls read ``watermark_column > last`` and remember the new high watermark only when
their batch is *applied*: a failed or rejected batch leaves it where it was, so the next run reads
the same rows again (idempotent). The run record keeps the candidate watermark, so a batch that
finishes after a restart still moves it (``_settle``). Rows whose watermark is NULL, or that arrive
later with a watermark at or below the stored one, are not picked up by incremental runs: a
periodic full pull covers them. Rolling a pulled batch back does not move the watermark back.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from apscheduler.triggers.cron import CronTrigger
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, create_engine, func, or_, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from govdata.aggregation import service
from govdata.aggregation.auth import PULL_MANAGE, PULL_READ
from govdata.aggregation.models import Batch, BatchStatus
from govdata.aggregation.pull_models import Pull, PullMode, PullRun, RunOutcome
from govdata.catalog import service as catalog
from govdata.core import audit
from govdata.core.auth import Actor, Role, require
from govdata.core.db import unit_of_work, utcnow
from govdata.core.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Problem,
    field_error,
    register_field_labels,
)
from govdata.core.observability import log
from govdata.core.schemas import OrmModel

CHINA = ZoneInfo("Asia/Shanghai")
BATCH_WAIT_SECONDS = 6 * 3600  # a pulled batch is waited for (its run records the outcome)
CHUNK_ROWS = 5000
ROW_GROUP_ROWS = 100_000
PROBE_SECONDS = 30
LEASE_GRACE = timedelta(hours=1)  # beyond the pull's own timeout, for the batch to be created


# --- input and output ----------------------------------------------------------------------------

HHMM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PullIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, description="部门数据库的 SQLAlchemy 连接地址")
    table: str | None = Field(default=None, max_length=300, description="表名（与 query 二选一）")
    query: str | None = Field(
        default=None, max_length=20000, description="一条 SELECT 查询（与 table 二选一）"
    )
    mode: Literal["full", "incremental"] = Field(default="full", description="全量或按水位列增量")
    watermark_column: str | None = Field(default=None, max_length=128, description="增量拉取的水位列")
    schedule: str = Field(max_length=100, description="cron 表达式（分 时 日 月 周），如 0 2 * * *")
    window_start: str | None = Field(default=None, pattern=HHMM, description="允许拉取的开始时间 HH:MM")
    window_end: str | None = Field(default=None, pattern=HHMM, description="允许拉取的结束时间 HH:MM")
    max_rows_per_second: int | None = Field(default=None, ge=1, le=1_000_000, description="每秒最多读取行数")
    timeout_seconds: int = Field(default=600, ge=1, le=86_400, description="一次拉取占用源库的最长秒数")
    batch_mode: Literal["replace", "upsert"] | None = Field(
        default=None, description="入库方式；默认全量为 replace、增量为 upsert"
    )
    policy: Literal["strict", "accept_valid"] = Field(default="strict", description="校验策略")


class PullPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    table: str | None = Field(default=None, max_length=300)
    query: str | None = Field(default=None, max_length=20000)
    mode: Literal["full", "incremental"] | None = None
    watermark_column: str | None = Field(default=None, max_length=128)
    schedule: str | None = Field(default=None, max_length=100)
    window_start: str | None = Field(default=None, pattern=HHMM)
    window_end: str | None = Field(default=None, pattern=HHMM)
    max_rows_per_second: int | None = Field(default=None, ge=1, le=1_000_000)
    timeout_seconds: int | None = Field(default=None, ge=1, le=86_400)
    batch_mode: Literal["replace", "upsert"] | None = None
    policy: Literal["strict", "accept_valid"] | None = None
    enabled: bool | None = None


class PullRunOut(OrmModel):
    id: int
    pull_id: int
    trigger: str
    started_by: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    rows: int
    batch_id: int | None
    batch_status: str | None = None
    watermark_from: str | None
    watermark_to: str | None
    message: str | None


class PullOut(BaseModel):
    id: int
    resource_code: str
    url: str = Field(description="连接地址（口令已隐去）")
    dialect: str
    table: str | None
    query: str | None
    mode: str
    watermark_column: str | None
    watermark: str | None = Field(description="已入库的最高水位")
    schedule: str
    window_start: str | None
    window_end: str | None
    max_rows_per_second: int | None
    timeout_seconds: int
    batch_mode: str
    policy: str
    enabled: bool
    created_by: str
    created_at: datetime
    updated_at: datetime
    last_run: PullRunOut | None = None


register_field_labels(
    {
        "url": "连接地址",
        "table": "表名",
        "query": "查询语句",
        "mode": "方式",
        "policy": "校验策略",
        "watermark_column": "水位列",
        "schedule": "执行计划",
        "window_start": "时间窗口开始",
        "window_end": "时间窗口结束",
        "max_rows_per_second": "每秒最多行数",
        "timeout_seconds": "超时秒数",
        "batch_mode": "入库方式",
        "enabled": "是否启用",
    }
)


@dataclass(frozen=True)
class PullEnv:
    """What pulls need of the platform: where files go, the secret, the platform's own databases."""

    data_dir: Path
    secret: str
    own_databases: tuple[str, ...] = ()
    clock: Callable[[], datetime] = field(default=utcnow)
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the server stops

    @classmethod
    def from_settings(cls, settings, secret: str | None = None) -> PullEnv:
        return cls(
            data_dir=Path(settings.data_dir),
            secret=secret or settings.resolved_secret_key(),
            own_databases=(settings.resolved_database_url(), settings.resolved_store_url()),
        )


# --- the URL: a secret ---------------------------------------------------------------------------


def _fernet(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"govdata:aggregation:pull-url").derive(
        secret.encode("utf-8")
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt_url(secret: str, url: str) -> str:
    return _fernet(secret).encrypt(url.encode("utf-8")).decode("ascii")


def decrypt_url(secret: str, token: str) -> str:
    try:
        return _fernet(secret).decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken as exc:
        raise Conflict(
            "无法解密该拉取的连接地址（平台密钥可能已更换），请重新设置连接地址。", slug="pull-url-unreadable"
        ) from exc


SECRET_PARAMS = re.compile(r"pass|pwd|secret|token|key", re.IGNORECASE)


def mask_url(url: URL) -> str:
    masked = url.set(query={k: ("***" if SECRET_PARAMS.search(k) else v) for k, v in url.query.items()})
    return masked.render_as_string(hide_password=True)


def _scrub(message: str, url: URL | None) -> str:
    """An error text without the password (drivers may echo the connection string)."""
    if url is not None and url.password:
        message = message.replace(str(url.password), "***")
    return message


# --- checking a definition ------------------------------------------------------------------------

DIALECTS = {"sqlite": "sqlite", "sqlite+pysqlite": "sqlite", "postgresql": "postgresql"}
DIALECTS["postgresql+psycopg"] = "postgresql"
LOCAL_HOSTS = {None, "", "localhost", "127.0.0.1", "::1"}


def check_url(raw: str, env: PullEnv) -> tuple[URL, str]:
    """Parse the URL; refuse unsupported databases and the platform's own databases and files."""
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError) as exc:
        raise field_error("url", "不是有效的数据库连接地址（SQLAlchemy URL）") from exc
    dialect = DIALECTS.get(url.drivername)
    if dialect is None:
        raise field_error(
            "url",
            "暂只支持 PostgreSQL（postgresql://用户:口令@主机/库名）和 SQLite 文件（sqlite:////绝对路径）",
        )
    if dialect == "sqlite":
        path = url.database or ""
        if not path or path == ":memory:" or path.startswith("file:") or url.query:
            raise field_error("url", "SQLite 应为数据库文件的绝对路径，如 sqlite:////data/dept.db")
        target = Path(path)
        if not target.is_absolute():
            raise field_error("url", "SQLite 数据库文件应写绝对路径（sqlite:////…）")
        resolved = target.resolve()
        forbidden = [Path(env.data_dir).resolve()]
        own_files = [_own_file(u) for u in env.own_databases]
        if any(resolved.is_relative_to(d) for d in forbidden) or resolved in own_files:
            raise field_error("url", "不能从平台自身的数据目录或数据库拉取数据")
        if not resolved.is_file():
            raise field_error("url", f"数据库文件不存在：{path}")
        return url.set(database=str(resolved)), dialect  # opened by the path that was checked
    if not url.database:
        raise field_error("url", "应写明数据库名，如 postgresql://用户:口令@主机:5432/库名")
    for own in env.own_databases:
        if _same_postgres(url, own):
            raise field_error("url", "不能从平台自身的数据库拉取数据")
    return url.set(drivername="postgresql+psycopg"), dialect


def _own_file(own: str) -> Path | None:
    with suppress(ArgumentError, ValueError):
        parsed = make_url(own)
        if parsed.get_backend_name() in ("sqlite", "duckdb") and parsed.database:
            return Path(parsed.database).resolve()
    return None


def _same_postgres(url: URL, own: str) -> bool:
    try:
        other = make_url(own)
    except (ArgumentError, ValueError):
        return False
    if other.get_backend_name() != "postgresql":
        return False

    def host(u: URL) -> str | None:
        return "localhost" if u.host in LOCAL_HOSTS else u.host

    return (host(url), url.port or 5432, url.database) == (host(other), other.port or 5432, other.database)


IDENTIFIER = re.compile(r"^\w[\w$]{0,127}$")


def quote_name(name: str, field_name: str, *, dotted: bool = False) -> str:
    """A table (``schema.table``) or column name, checked and double-quoted for SQL."""
    parts = name.strip().split(".") if dotted else [name.strip()]
    if len(parts) > 2 or not all(IDENTIFIER.match(p) for p in parts):
        raise field_error(field_name, "名称只能包含字母、数字、汉字、下划线（可写作 模式.表名）")
    return ".".join('"' + p.replace('"', '""') + '"' for p in parts)


WRITE_WORDS = re.compile(
    r"\b(insert|update|delete|merge|upsert|into|drop|alter|create|truncate|grant|revoke|attach|detach|"
    r"pragma|copy|call|execute|vacuum|reindex)\b",
    re.IGNORECASE,
)
LOCKING = re.compile(r"\bfor\s+(no\s+key\s+update|key\s+share|share|update)\b", re.IGNORECASE)
SIDE_EFFECT_FUNCTIONS = re.compile(
    r"\b(pg_advisory\w*|pg_try_advisory\w*|pg_terminate_backend|pg_cancel_backend|pg_reload_conf|"
    r"pg_notify|set_config|dblink\w*|lo_\w+|pg_read_\w*file|pg_ls_\w+|load_extension|writefile|"
    r"nextval|setval)\s*\(",
    re.IGNORECASE,
)


def _code_only(sql: str) -> str:
    """The SQL with comments, string literals and quoted identifiers blanked out."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            if end < 0:
                raise field_error("query", "注释没有结束（缺少 */）")
            i = end + 2
            out.append(" ")
        elif c in "'\"`":
            j = i + 1
            while True:
                k = sql.find(c, j)
                if k < 0:
                    raise field_error("query", "引号没有配对")
                if sql.startswith(c * 2, k):
                    j = k + 2
                    continue
                break
            out.append(" '' " if c == "'" else ' "x" ')
            i = k + 1
        elif c == "$" and (m := re.match(r"\$(\w*)\$", sql[i:])) and not (i and sql[i - 1].isalnum()):
            end = sql.find(m.group(0), i + len(m.group(0)))
            if end < 0:
                raise field_error("query", "美元符号引号（$$）没有配对")
            out.append(" '' ")
            i = end + len(m.group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def check_select(sql: str) -> str:
    """One read-only SELECT (or WITH … SELECT); returns it without a trailing semicolon.

    A first line of defence that names the problem in Chinese; the read-only transaction in which
    every pull runs is what actually guarantees that nothing is written."""
    body = sql.strip()
    body = body[:-1].rstrip() if body.endswith(";") else body
    if not body:
        raise field_error("query", "查询语句为空")
    code = _code_only(body)
    if ";" in code:
        raise field_error("query", "只能是一条 SELECT 查询语句，不能用分号连接多条语句")
    first = re.match(r"[\s(]*(\w+)", code)
    if not first or first.group(1).lower() not in ("select", "with"):
        raise field_error(
            "query", "只允许 SELECT 查询（可以 WITH 开头）：数据归集只读取部门业务系统，不修改它"
        )
    if match := WRITE_WORDS.search(code):
        raise field_error(
            "query",
            f"查询包含不允许的关键字 {match.group(1).upper()}：只允许只读的 SELECT 查询，数据归集不修改部门业务系统",
        )
    if match := LOCKING.search(code):
        raise field_error("query", f"查询不能加锁（{match.group(0).upper()}）：拉取不得阻塞部门业务系统")
    if match := SIDE_EFFECT_FUNCTIONS.search(code):
        raise field_error("query", f"查询不能调用有副作用的函数 {match.group(1)}")
    return body


_DOW = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def _crontab_weekdays(expr: str) -> str:
    """Standard crontab weekdays (0 or 7 = Sunday) as names, since APScheduler 3 counts 0 as Monday."""
    if not re.search(r"\d", expr):
        return expr  # *, or names (mon-fri), which mean the same to both
    days: set[int] = set()
    for part in expr.split(","):
        span, _, step = part.partition("/")
        if span == "*":
            first, last = 0, 6
        elif m := re.fullmatch(r"(\d)(?:-(\d))?", span):
            first = int(m.group(1))
            last = int(m.group(2)) if m.group(2) else (6 if step else first)
        else:
            raise ValueError(part)
        if first > 7 or last > 7 or first > last:
            raise ValueError(part)
        days.update(d % 7 for d in range(first, last + 1, int(step) if step else 1))
    return ",".join(_DOW[d] for d in sorted(days))


def cron_trigger(expr: str) -> CronTrigger:
    """A crontab expression (minute hour day month weekday) in China time."""
    fields = expr.split()
    try:
        if len(fields) != 5:
            raise ValueError(expr)
        return CronTrigger(
            minute=fields[0],
            hour=fields[1],
            day=fields[2],
            month=fields[3],
            day_of_week=_crontab_weekdays(fields[4]),
            timezone=CHINA,
        )
    except (ValueError, TypeError) as exc:
        raise field_error(
            "schedule", "应为 cron 表达式：分 时 日 月 周（如每天凌晨 2 点为 0 2 * * *）"
        ) from exc


def _hhmm(value: str) -> dtime:
    hour, minute = value.split(":")
    return dtime(int(hour), int(minute))


def in_window(window_start: str | None, window_end: str | None, moment: datetime) -> bool:
    """Whether ``moment`` falls in the daily window [start, end) in China time; it may cross midnight."""
    if not window_start or not window_end:
        return True
    now = moment.astimezone(CHINA).time()
    start, end = _hhmm(window_start), _hhmm(window_end)
    if start <= end:
        return start <= now < end
    return now >= start or now < end


# --- the department's database, read-only -------------------------------------------------------------


class PullStopped(Exception):
    """The pull stopped before reading everything (timeout, window, source error): nothing is loaded."""


def _remaining(deadline: float) -> float:
    return deadline - time.monotonic()


@contextmanager
def read_only_connection(url: URL, dialect: str, deadline: float) -> Iterator[Connection]:
    """A connection to the department's database in a read-only transaction that ends by ``deadline``
    (a ``time.monotonic()`` value); it is rolled back, never committed."""
    seconds = max(1, int(_remaining(deadline)))
    if dialect == "sqlite":
        path = url.database

        def connect() -> sqlite3.Connection:
            con = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=min(seconds, 30))
            con.execute("PRAGMA query_only=ON")
            con.set_progress_handler(lambda: 1 if time.monotonic() > deadline else 0, 1000)
            return con

        engine = create_engine("sqlite://", creator=connect, poolclass=NullPool)
    else:
        engine = create_engine(
            url,
            poolclass=NullPool,
            connect_args={"connect_timeout": min(seconds, 30), "application_name": "govdata-pull"},
        )
    try:
        with engine.connect() as conn:
            if dialect == "postgresql":
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                _pg_timeouts(conn, deadline)
                if conn.exec_driver_sql("SHOW transaction_read_only").scalar() != "on":
                    raise PullStopped("无法以只读方式连接部门数据库，已停止。")
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def _pg_timeouts(conn: Connection, deadline: float) -> None:
    ms = max(1, int(_remaining(deadline) * 1000))
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
    conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {ms}")


def _is_timeout(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in ("57014", "25P03"):  # query_canceled, idle-in-transaction
        return True
    return isinstance(orig, sqlite3.OperationalError) and "interrupted" in str(orig)


@dataclass(frozen=True)
class Plan:
    """A pull's definition, detached from the session, as a run needs it."""

    id: int
    resource_code: str
    department_id: int
    url: URL
    dialect: str
    table_name: str | None
    query: str | None
    mode: str
    watermark_column: str | None
    watermark: Any
    window_start: str | None
    window_end: str | None
    max_rows_per_second: int | None
    timeout_seconds: int
    batch_mode: str
    policy: str

    def select(self, *, probe: bool = False) -> tuple[str, dict[str, Any]]:
        if self.table_name:
            base = "SELECT * FROM " + quote_name(self.table_name, "table", dotted=True)
        else:
            # ":" would start a bind parameter in text(); the newline ends a trailing -- comment
            base = "SELECT * FROM (" + self.query.replace(":", r"\:") + "\n) AS govdata_pull"
        if probe:
            return f"SELECT * FROM ({base}) AS govdata_probe LIMIT 0", {}
        if self.mode == PullMode.incremental and self.watermark is not None:
            column = quote_name(self.watermark_column, "watermark_column")
            if self.table_name:
                return f"{base} WHERE {column} > :last", {"last": self.watermark}
            return f"SELECT * FROM ({base}) AS govdata_wm WHERE {column} > :last", {"last": self.watermark}
        return base, {}


def probe_columns(plan: Plan) -> list[str]:
    """The columns the pull would read, from a LIMIT 0 query (no rows, no load on the source)."""
    deadline = time.monotonic() + min(plan.timeout_seconds, PROBE_SECONDS)
    sql, _ = plan.select(probe=True)
    try:
        with read_only_connection(plan.url, plan.dialect, deadline) as conn:
            return list(conn.execute(text(sql)).keys())
    except DBAPIError as exc:
        raise InvalidInput(
            "无法连接部门数据库或执行查询：" + _scrub(_first_line(exc.orig), plan.url),
            slug="pull-source-error",
        ) from exc
    except SQLAlchemyError as exc:
        raise InvalidInput(
            "无法连接部门数据库：" + _scrub(_first_line(exc), plan.url), slug="pull-source-error"
        ) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]


# --- values into Parquet (text columns, as every batch source becomes) -------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _text_array(values: list[Any]) -> pa.Array:
    """One column as text, converted by Arrow when the column has one type (the usual case)."""
    try:
        array = pa.array(values)
        kind = array.type
        if pa.types.is_null(kind):
            return pa.nulls(len(values), pa.string())
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            return array.cast(pa.string())
        if pa.types.is_timestamp(kind):
            if kind.tz:  # shown in China time, as a department reads its own timestamps
                array = pc.local_timestamp(array.cast(pa.timestamp(kind.unit, tz="Asia/Shanghai")))
            return pc.replace_substring_regex(array.cast(pa.string()), r"\.0+$", "")
        if (
            pa.types.is_integer(kind)
            or pa.types.is_decimal(kind)
            or pa.types.is_date(kind)
            or pa.types.is_floating(kind)
            or pa.types.is_boolean(kind)
        ):
            return array.cast(pa.string())
    except (pa.ArrowException, TypeError, ValueError, OverflowError):
        pass
    return pa.array([_text(v) for v in values], pa.string())


@dataclass
class ReadResult:
    rows: int = 0
    high: Any = None
    columns: list[str] = field(default_factory=list)


class _Throttle:
    """Sleeps so that no more than ``rate`` rows per second are read, within the deadline."""

    def __init__(self, rate: int | None, deadline: float, stopping: threading.Event) -> None:
        self.rate, self.deadline, self.stopping = rate, deadline, stopping
        self.started = time.monotonic()

    def after(self, rows: int) -> None:
        if not self.rate:
            return
        wait = self.started + rows / self.rate - time.monotonic()
        if wait <= 0:
            return
        if time.monotonic() + wait > self.deadline:
            raise PullStopped(
                "按限速读取需要的时间超过了超时时间，已停止；请放宽限速或超时时间。数据未入库。"
            )
        if self.stopping.wait(wait):
            raise PullStopped(STOPPING)


STOPPING = "服务正在停止，本次拉取已中止；数据未入库，下次运行时重新拉取。"


def read_source(plan: Plan, target: Path, env: PullEnv) -> ReadResult:
    """Stream the pull's rows into a Parquet file of text columns, keeping to its limits."""
    deadline = time.monotonic() + plan.timeout_seconds
    chunk = min(CHUNK_ROWS, plan.max_rows_per_second or CHUNK_ROWS)
    throttle = _Throttle(plan.max_rows_per_second, deadline, env.stopping)
    result = ReadResult()
    sql, params = plan.select()
    target.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    buffered: list[pa.Table] = []
    try:
        with read_only_connection(plan.url, plan.dialect, deadline) as conn:
            options = (
                {"stream_results": True, "max_row_buffer": chunk} if plan.dialect == "postgresql" else {}
            )
            cursor = conn.execute(text(sql), params, execution_options=options)
            columns = list(cursor.keys())
            if len(set(columns)) != len(columns):
                raise PullStopped("查询结果有重名的列，请为列起不同的别名。")
            result.columns = columns
            mark = _watermark_index(plan, columns)
            schema = pa.schema([(c, pa.string()) for c in columns])
            writer = pq.ParquetWriter(str(target), schema)
            while True:
                if plan.dialect == "postgresql":
                    _pg_timeouts(conn, deadline)
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                cells = list(zip(*rows, strict=True))
                buffered.append(pa.table([_text_array(list(col)) for col in cells], schema=schema))
                result.rows += len(rows)
                if mark is not None:
                    result.high = _max_watermark(result.high, cells[mark])
                if sum(t.num_rows for t in buffered) >= ROW_GROUP_ROWS:
                    writer.write_table(pa.concat_tables(buffered))
                    buffered = []
                if time.monotonic() > deadline:
                    raise PullStopped(f"超过超时时间（{plan.timeout_seconds} 秒），已停止读取。数据未入库。")
                if env.stopping.is_set():
                    raise PullStopped(STOPPING)
                if not in_window(plan.window_start, plan.window_end, env.clock()):
                    raise PullStopped(
                        f"已到允许拉取的时间窗口结束时间（{plan.window_end}），已停止读取。数据未入库，下次在窗口内重新拉取。"
                    )
                throttle.after(result.rows)
            if buffered:
                writer.write_table(pa.concat_tables(buffered))
    except DBAPIError as exc:
        if _is_timeout(exc):
            raise PullStopped(
                f"超过超时时间（{plan.timeout_seconds} 秒），部门数据库已中止查询。数据未入库。"
            ) from exc
        raise PullStopped("读取部门数据库出错：" + _scrub(_first_line(exc.orig), plan.url)) from exc
    except SQLAlchemyError as exc:
        raise PullStopped("连接部门数据库出错：" + _scrub(_first_line(exc), plan.url)) from exc
    finally:
        if writer is not None:
            writer.close()
    return result


def _watermark_index(plan: Plan, columns: list[str]) -> int | None:
    if plan.mode != PullMode.incremental:
        return None
    for i, column in enumerate(columns):
        if column == plan.watermark_column:
            return i
    raise PullStopped(f"查询结果中没有水位列 {plan.watermark_column}。")


def _max_watermark(current: Any, values: tuple) -> Any:
    try:
        present = [v for v in values if v is not None]
        if not present:
            return current
        high = max(present)
        return high if current is None or high > current else current
    except TypeError as exc:
        raise PullStopped("水位列的取值类型不一致（如文本与数字混杂），无法比较。") from exc


def dump_watermark(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise PullStopped("水位列不能是逻辑值。")
    if isinstance(value, datetime):
        kind, shown = "datetime", value.isoformat()
    elif isinstance(value, date):
        kind, shown = "date", value.isoformat()
    elif isinstance(value, int):
        kind, shown = "int", str(value)
    elif isinstance(value, float):
        kind, shown = "float", repr(value)
    elif isinstance(value, Decimal):
        kind, shown = "decimal", str(value)
    elif isinstance(value, str):
        kind, shown = "str", value
    else:
        raise PullStopped(f"水位列的类型（{type(value).__name__}）不能用于增量拉取。")
    return json.dumps({"type": kind, "value": shown}, ensure_ascii=False)


def load_watermark(stored: str | None) -> Any:
    if not stored:
        return None
    data = json.loads(stored)
    kind, value = data["type"], data["value"]
    return {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "int": int,
        "float": float,
        "decimal": Decimal,
        "str": str,
    }[kind](value)


def shown_watermark(stored: str | None) -> str | None:
    return json.loads(stored)["value"] if stored else None


# --- defining pulls ---------------------------------------------------------------------------------


def _plan(pull: Pull, env: PullEnv) -> Plan:
    url, dialect = check_url(decrypt_url(env.secret, pull.url_encrypted), env)
    return Plan(
        id=pull.id,
        resource_code=pull.resource_code,
        department_id=pull.department_id,
        url=url,
        dialect=dialect,
        table_name=pull.table_name,
        query=pull.query,
        mode=pull.mode,
        watermark_column=pull.watermark_column,
        watermark=load_watermark(pull.watermark),
        window_start=pull.window_start,
        window_end=pull.window_end,
        max_rows_per_second=pull.max_rows_per_second,
        timeout_seconds=pull.timeout_seconds,
        batch_mode=pull.batch_mode,
        policy=pull.policy,
    )


def _check_definition(session: Session, resource, values: dict[str, Any], env: PullEnv) -> dict[str, Any]:
    """Check a whole definition (create, or the result of a patch); returns the columns to store."""
    url, dialect = check_url(values["url"], env)
    table, query = (values.get("table") or "").strip() or None, (values.get("query") or "").strip() or None
    if (table is None) == (query is None):
        raise InvalidInput("请给出表名（table）或一条 SELECT 查询（query），二者选一。", slug="pull-source")
    if table:
        quote_name(table, "table", dotted=True)
    else:
        query = check_select(query)
    mode = values["mode"]
    watermark_column = (values.get("watermark_column") or "").strip() or None
    if mode == PullMode.incremental:
        if not watermark_column:
            raise field_error("watermark_column", "增量拉取需要水位列（如 updated_at）")
        quote_name(watermark_column, "watermark_column")
    batch_mode = values.get("batch_mode") or ("upsert" if mode == PullMode.incremental else "replace")
    if mode == PullMode.incremental and batch_mode == "replace":
        raise field_error(
            "batch_mode", "增量拉取只读取新增或变更的行，入库方式应为 upsert（整体替换会删去其余数据）"
        )
    start, end = values.get("window_start"), values.get("window_end")
    if bool(start) != bool(end):
        raise field_error("window_end" if start else "window_start", "时间窗口的开始和结束应同时给出")
    if start and start == end:
        raise field_error("window_end", "时间窗口的开始和结束不能相同")
    cron_trigger(values["schedule"])
    spec, rules = service.table_of(session, resource)
    if batch_mode == "upsert" and not spec.key_columns:
        raise field_error("batch_mode", "该资源没有关键标识信息项，只能整体替换（replace）")
    plan = Plan(
        id=0,
        resource_code=resource.code,
        department_id=resource.provider_id,
        url=url,
        dialect=dialect,
        table_name=table,
        query=query,
        mode=mode,
        watermark_column=watermark_column,
        watermark=None,
        window_start=start,
        window_end=end,
        max_rows_per_second=values.get("max_rows_per_second"),
        timeout_seconds=values["timeout_seconds"],
        batch_mode=batch_mode,
        policy=values["policy"],
    )
    columns = probe_columns(plan)
    if len(set(columns)) != len(columns):
        raise field_error("query", "查询结果有重名的列，请为列起不同的别名")
    if watermark_column:
        actual = next((c for c in columns if c == watermark_column), None) or next(
            (c for c in columns if c.lower() == watermark_column.lower()), None
        )
        if actual is None:
            raise field_error("watermark_column", f"查询结果中没有列 {watermark_column}")
        watermark_column = actual
    by_name = {c.strip().lower() for c in columns}
    needed = [r for r in rules if r.required or (r.key and batch_mode == "upsert")]
    missing = [r for r in needed if r.code.lower() not in by_name and r.name.strip().lower() not in by_name]
    if missing:
        names = "、".join(f"{r.name}（{r.code}）" for r in missing)
        raise InvalidInput(
            f"查询结果缺少必需的列：{names}。列名应为信息项代码或名称（可在查询中用 AS 起别名）。",
            slug="missing-columns",
        )
    return {
        "url_encrypted": encrypt_url(env.secret, url.render_as_string(hide_password=False)),
        "url_masked": mask_url(url),
        "dialect": dialect,
        "table_name": table,
        "query": query,
        "mode": mode,
        "watermark_column": watermark_column,
        "schedule": " ".join(values["schedule"].split()),
        "window_start": start,
        "window_end": end,
        "max_rows_per_second": values.get("max_rows_per_second"),
        "timeout_seconds": values["timeout_seconds"],
        "batch_mode": batch_mode,
        "policy": values["policy"],
    }


def create_pull(session: Session, actor: Actor, env: PullEnv, code: str, data: PullIn) -> Pull:
    require(actor, PULL_MANAGE)
    resource = catalog.get_resource(session, actor, code)
    if actor.department_id != resource.provider_id:
        raise PermissionDenied("只能为本部门提供的资源设置数据库拉取。")
    columns = _check_definition(session, resource, data.model_dump(), env)
    pull = Pull(
        resource_id=resource.id,
        resource_code=resource.code,
        department_id=resource.provider_id,
        enabled=True,
        created_by=actor.name,
        **columns,
    )
    session.add(pull)
    session.flush()
    audit.record(session, actor, "aggregation.pull.created", "pull", pull.id, details=_audit_details(pull))
    return pull


def _audit_details(pull: Pull) -> dict[str, Any]:
    return {
        "resource": pull.resource_code,
        "url": pull.url_masked,
        "table": pull.table_name,
        "query": pull.query,
        "mode": pull.mode,
        "schedule": pull.schedule,
        "window": f"{pull.window_start}-{pull.window_end}" if pull.window_start else None,
        "max_rows_per_second": pull.max_rows_per_second,
        "timeout_seconds": pull.timeout_seconds,
        "enabled": pull.enabled,
    }


def _visible_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    pull = session.get(Pull, pull_id)
    if pull is None:
        raise NotFound(f"数据库拉取 {pull_id} 不存在。")
    if not (Role.authority in actor.roles or actor.department_id == pull.department_id):
        raise PermissionDenied("只能查看本部门的数据库拉取。")
    return pull


def _own_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    pull = _visible_pull(session, actor, pull_id)
    if actor.department_id != pull.department_id:
        raise PermissionDenied("只能管理本部门的数据库拉取。")
    return pull


def get_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    require(actor, PULL_READ)
    return _visible_pull(session, actor, pull_id)


def list_pulls(session: Session, actor: Actor, code: str) -> list[Pull]:
    require(actor, PULL_READ)
    resource = catalog.get_resource(session, actor, code)
    if not (Role.authority in actor.roles or actor.department_id == resource.provider_id):
        raise PermissionDenied("只能查看本部门资源的数据库拉取。")
    return list(session.scalars(select(Pull).where(Pull.resource_id == resource.id).order_by(Pull.id)))


def update_pull(session: Session, actor: Actor, env: PullEnv, pull_id: int, patch: PullPatch) -> Pull:
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    changes = patch.model_dump(exclude_unset=True)
    enabled = changes.pop("enabled", None)
    if changes:
        current = {
            "url": decrypt_url(env.secret, pull.url_encrypted),
            "table": pull.table_name,
            "query": pull.query,
            "mode": pull.mode,
            "watermark_column": pull.watermark_column,
            "schedule": pull.schedule,
            "window_start": pull.window_start,
            "window_end": pull.window_end,
            "max_rows_per_second": pull.max_rows_per_second,
            "timeout_seconds": pull.timeout_seconds,
            "batch_mode": pull.batch_mode,
            "policy": pull.policy,
        }
        if "table" in changes and changes["table"]:
            current["query"] = None
        if "query" in changes and changes["query"]:
            current["table"] = None
        if changes.get("mode") and "batch_mode" not in changes:
            current["batch_mode"] = None  # derived again from the new mode
        current.update({k: v for k, v in changes.items() if v is not None or k in _NULLABLE})
        resource = catalog.get_resource(session, actor, pull.resource_code)
        columns = _check_definition(session, resource, current, env)
        source_changed = any(
            getattr(pull, k) != columns[k] for k in ("table_name", "query", "mode", "watermark_column")
        ) or decrypt_url(env.secret, pull.url_encrypted) != decrypt_url(env.secret, columns["url_encrypted"])
        for name, value in columns.items():
            setattr(pull, name, value)
        if source_changed:
            pull.watermark = None  # another source: the next incremental run starts from the beginning
    if enabled is not None:
        pull.enabled = enabled
    pull.updated_at = utcnow()
    audit.record(
        session,
        actor,
        "aggregation.pull.updated",
        "pull",
        pull.id,
        details={**_audit_details(pull), "changed": sorted(patch.model_dump(exclude_unset=True))},
    )
    return pull


_NULLABLE = {"window_start", "window_end", "max_rows_per_second", "watermark_column"}


def disable_pull(session: Session, actor: Actor, pull_id: int) -> Pull:
    """Stop scheduling the pull; its definition and run history are kept (evidence)."""
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    pull.enabled = False
    pull.updated_at = utcnow()
    audit.record(session, actor, "aggregation.pull.disabled", "pull", pull.id, details=_audit_details(pull))
    return pull


def list_runs(
    session: Session, actor: Actor, pull_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[PullRun], int]:
    require(actor, PULL_READ)
    _visible_pull(session, actor, pull_id)
    stmt = select(PullRun).where(PullRun.pull_id == pull_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    runs = session.scalars(stmt.order_by(PullRun.id.desc()).limit(limit).offset(offset)).all()
    return list(runs), total


def run_out(session: Session, run: PullRun) -> PullRunOut:
    out = PullRunOut.model_validate(run)
    out.watermark_from, out.watermark_to = (
        shown_watermark(run.watermark_from),
        shown_watermark(run.watermark_to),
    )
    if run.batch_id:
        out.batch_status = session.scalar(select(Batch.status).where(Batch.id == run.batch_id))
    return out


def pull_out(session: Session, pull: Pull) -> PullOut:
    last = session.scalar(
        select(PullRun).where(PullRun.pull_id == pull.id).order_by(PullRun.id.desc()).limit(1)
    )
    return PullOut(
        id=pull.id,
        resource_code=pull.resource_code,
        url=pull.url_masked,
        dialect=pull.dialect,
        table=pull.table_name,
        query=pull.query,
        mode=pull.mode,
        watermark_column=pull.watermark_column,
        watermark=shown_watermark(pull.watermark),
        schedule=pull.schedule,
        window_start=pull.window_start,
        window_end=pull.window_end,
        max_rows_per_second=pull.max_rows_per_second,
        timeout_seconds=pull.timeout_seconds,
        batch_mode=pull.batch_mode,
        policy=pull.policy,
        enabled=pull.enabled,
        created_by=pull.created_by,
        created_at=pull.created_at,
        updated_at=pull.updated_at,
        last_run=run_out(session, last) if last else None,
    )


# --- running a pull -------------------------------------------------------------------------------------

BATCH_OUTCOMES = {
    BatchStatus.applied: RunOutcome.applied,
    BatchStatus.rejected: RunOutcome.rejected,
    BatchStatus.failed: RunOutcome.failed,
    BatchStatus.rolled_back: RunOutcome.applied,  # it was applied; rolling back is a later decision
}


def pull_actor(department_id: int, pull_id: int) -> Actor:
    """Whom a scheduled run acts as: the department's pull, with an officer's right to load batches."""
    return Actor(
        kind="user",
        roles=frozenset({Role.dept_officer}),
        username=f"pull:{pull_id}",
        display_name="数据库定时归集",
        department_id=department_id,
    )


def _settle(session: Session, pull: Pull, now: datetime) -> bool:
    """Finish earlier runs whose batch has finished since (moving the watermark if applied); True while
    an earlier run's batch is still queued or being processed."""
    busy = False
    earlier = session.scalars(
        select(PullRun).where(PullRun.pull_id == pull.id, PullRun.outcome == RunOutcome.running)
    ).all()
    for run in earlier:
        if run.batch_id is None:
            run.outcome, run.finished_at = RunOutcome.failed, now
            run.message = "运行被中断（服务重启或进程退出），数据未入库。"
            continue
        batch = session.get(Batch, run.batch_id)
        if batch.status in (BatchStatus.queued, BatchStatus.running):
            busy = True
            continue
        _close_run(session, pull, run, batch, now)
    return busy


def _close_run(session: Session, pull: Pull, run: PullRun, batch: Batch, now: datetime) -> None:
    run.outcome = BATCH_OUTCOMES.get(batch.status, RunOutcome.failed)
    run.finished_at = now
    run.message = batch.message or (
        f"已入库 {batch.rows_applied} 行。" if run.outcome == RunOutcome.applied else None
    )
    if batch.status in (BatchStatus.applied, BatchStatus.rolled_back) and run.watermark_to:
        pull.watermark = run.watermark_to  # only an applied batch moves the watermark


@dataclass
class Started:
    run_id: int
    plan: Plan | None  # None when the run was recorded as skipped


def start_run(
    factory: sessionmaker, env: PullEnv, pull_id: int, *, trigger: str, actor: Actor | None = None
) -> Started | None:
    """Claim the pull and record a new run. A manual run gets a 409 when it may not start now; a
    scheduled one records a skipped run instead. None: the pull is gone or disabled."""
    manual = trigger == "manual"
    with unit_of_work(factory) as session:
        pull = session.get(Pull, pull_id)
        if pull is None or not pull.enabled:
            if manual:
                raise Conflict("该数据库拉取已停用，请先启用。", slug="pull-disabled")
            return None
        by = actor.name if actor else f"pull:{pull_id}"
        now = env.clock()

        def ended(outcome: RunOutcome, message: str) -> Started:
            """A run that ends as it starts: skipped, or failed before reading anything."""
            run = PullRun(
                pull_id=pull_id,
                trigger=trigger,
                started_by=by,
                started_at=now,
                finished_at=now,
                outcome=outcome,
                message=message,
            )
            session.add(run)
            session.flush()
            return Started(run.id, None)

        reason = None
        if not in_window(pull.window_start, pull.window_end, now):
            reason = f"当前不在允许拉取的时间窗口（{pull.window_start}–{pull.window_end}）内，未拉取。"
        else:
            claimed = session.execute(
                update(Pull)
                .where(Pull.id == pull_id, or_(Pull.lease_until.is_(None), Pull.lease_until < now))
                .values(lease_until=now + timedelta(seconds=pull.timeout_seconds) + LEASE_GRACE)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not claimed:
                reason = "上一次拉取仍在运行，本次跳过。"
            elif _settle(session, pull, now):
                pull.lease_until = None
                reason = "上一次拉取的批次仍在处理中，本次跳过。"
        if reason:
            if manual:
                raise Conflict(reason, slug="pull-not-now")
            return ended(RunOutcome.skipped, reason)
        try:
            plan = _plan(pull, env)
        except Problem as exc:
            pull.lease_until = None
            return ended(RunOutcome.failed, exc.detail)
        run = PullRun(
            pull_id=pull_id,
            trigger=trigger,
            started_by=by,
            started_at=now,
            outcome=RunOutcome.running,
            watermark_from=pull.watermark,
        )
        session.add(run)
        session.flush()
        audit.record(
            actor=actor or pull_actor(pull.department_id, pull.id),
            session=session,
            action="aggregation.pull.started",
            object_type="pull",
            object_id=pull.id,
            details={"run": run.id, "trigger": trigger, "watermark": shown_watermark(pull.watermark)},
        )
        return Started(run.id, plan)


def execute_run(
    factory: sessionmaker, env: PullEnv, started: Started, *, actor: Actor | None = None
) -> int:
    """Read the source, hand the rows to the batch pipeline, wait for the batch, record the outcome."""
    plan, run_id = started.plan, started.run_id
    if plan is None:
        return run_id
    actor = actor or pull_actor(plan.department_id, plan.id)
    path = env.data_dir / "pulls" / str(plan.id) / f"run-{run_id}.parquet"
    try:
        try:
            read = read_source(plan, path, env)
        except PullStopped as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, str(exc))
        except Exception:
            log.exception("pull failed", pull=plan.id, run=run_id)
            return _end(
                factory,
                env,
                plan,
                run_id,
                actor,
                RunOutcome.failed,
                "拉取时发生内部错误，已记录日志；数据未入库。",
            )
        if read.rows == 0:
            message = (
                "没有新增或变更的行，未创建批次。"
                if plan.watermark is not None
                else "源表没有数据，未创建批次。"
            )
            return _end(factory, env, plan, run_id, actor, RunOutcome.empty, message)
        try:
            high = dump_watermark(read.high)
        except PullStopped as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, str(exc))
        checksum = hashlib.sha256(path.read_bytes()).hexdigest()
        try:
            with unit_of_work(factory) as session:
                batch = service.create_batch(
                    session,
                    actor,
                    env.data_dir,
                    plan.resource_code,
                    mode=plan.batch_mode,
                    policy=plan.policy,
                    upload=service.Upload(path, f"pull-{plan.id}-run-{run_id}.parquet", checksum),
                    source_rows=read.rows,
                    source="pull",
                )
                run = session.get(PullRun, run_id)
                run.batch_id, run.rows, run.watermark_to = batch.id, read.rows, high
                batch_id = batch.id
        except Problem as exc:
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, exc.detail, rows=read.rows)
        except Exception:
            log.exception("pull batch not created", pull=plan.id, run=run_id)
            message = "创建批次时发生内部错误，已记录日志；数据未入库。"
            return _end(factory, env, plan, run_id, actor, RunOutcome.failed, message, rows=read.rows)
        status = service.wait_for(factory, batch_id, BATCH_WAIT_SECONDS, stop=env.stopping.is_set)
        if status not in service.FINISHED:  # the server is stopping: the batch job runs at the next start
            log.warning("pull batch left for the next start", pull=plan.id, batch=batch_id)
            return run_id
        return _end(factory, env, plan, run_id, actor, None, None)
    finally:
        path.unlink(missing_ok=True)


def _end(
    factory: sessionmaker,
    env: PullEnv,
    plan: Plan,
    run_id: int,
    actor: Actor,
    outcome: str | None,
    message: str | None,
    *,
    rows: int = 0,
) -> int:
    """Record how the run ended (from its batch when ``outcome`` is None) and release the pull."""
    now = env.clock()
    with unit_of_work(factory) as session:
        pull = session.get(Pull, plan.id)
        run = session.get(PullRun, run_id)
        if outcome is None:
            _close_run(session, pull, run, session.get(Batch, run.batch_id), now)
        else:
            run.outcome, run.message, run.finished_at, run.rows = outcome, message, now, rows
        pull.lease_until = None
        audit.record(
            session,
            actor,
            f"aggregation.pull.{run.outcome}",
            "pull",
            plan.id,
            details={
                "run": run.id,
                "rows": run.rows,
                "batch": run.batch_id,
                "watermark": shown_watermark(pull.watermark),
                "message": run.message,
            },
        )
    return run_id


def run_pull(
    factory: sessionmaker,
    env: PullEnv,
    pull_id: int,
    *,
    trigger: str = "schedule",
    actor: Actor | None = None,
) -> int | None:
    """One whole run (claim, read, batch, record); returns the run's id."""
    started = start_run(factory, env, pull_id, trigger=trigger, actor=actor)
    if started is None:
        return None
    return execute_run(factory, env, started, actor=actor)


def check_can_run(session: Session, actor: Actor, pull_id: int) -> Pull:
    """The caller may run this pull now (own department, enabled)."""
    require(actor, PULL_MANAGE)
    pull = _own_pull(session, actor, pull_id)
    if not pull.enabled:
        raise Conflict("该数据库拉取已停用，请先启用。", slug="pull-disabled")
    return pull


def recover(factory: sessionmaker, env: PullEnv) -> None:
    """At start of the one process that runs pulls: release the leases that a stopped process held,
    and finish the runs that can be finished (no other live process holds a lease then)."""
    now = env.clock()
    with unit_of_work(factory) as session:
        for pull in session.scalars(select(Pull)):
            _settle(session, pull, now)
            pull.lease_until = None


def next_catch_up(session: Session, pull: Pull, now: datetime) -> datetime | None:
    """``now`` when a scheduled fire time passed without a run (the server was down), else None."""
    last = session.scalar(
        select(func.max(PullRun.started_at)).where(PullRun.pull_id == pull.id, PullRun.trigger == "schedule")
    )
    since = last or pull.created_at
    missed = cron_trigger(pull.schedule).get_next_fire_time(
        None, since.astimezone(CHINA) + timedelta(seconds=1)
    )
    return now if missed is not None and missed <= now else None
