"""The department's database as a pull reaches it: the connection URL (a secret), the checks of a
definition (which databases, which table or query), and the read-only connection with its deadline.

The URL usually carries a password: it is stored encrypted (Fernet, with a key derived from the
platform's secret) and shown only masked. The query check names a problem in Chinese; the read-only
transaction is what guarantees that nothing is written (see the package docstring).
"""

from __future__ import annotations

import base64
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from govdata.aggregation.pull_models import PullMode
from govdata.core import clock as platform_clock
from govdata.core.errors import Conflict, InvalidInput, field_error

PROBE_SECONDS = 30


@dataclass(frozen=True)
class PullEnv:
    """What pulls need of the platform: where files go, the secret, the platform's own databases."""

    data_dir: Path
    secret: str
    own_databases: tuple[str, ...] = ()
    clock: Callable[[], datetime] = field(default=platform_clock.now)
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


def scrub(message: str, url: URL | None) -> str:
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
                pg_timeouts(conn, deadline)
                if conn.exec_driver_sql("SHOW transaction_read_only").scalar() != "on":
                    raise PullStopped("无法以只读方式连接部门数据库，已停止。")
            try:
                yield conn
            finally:
                conn.rollback()
    finally:
        engine.dispose()


def pg_timeouts(conn: Connection, deadline: float) -> None:
    ms = max(1, int(_remaining(deadline) * 1000))
    conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
    conn.exec_driver_sql(f"SET LOCAL idle_in_transaction_session_timeout = {ms}")


def is_timeout(exc: BaseException) -> bool:
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
            "无法连接部门数据库或执行查询：" + scrub(first_line(exc.orig), plan.url),
            slug="pull-source-error",
        ) from exc
    except SQLAlchemyError as exc:
        raise InvalidInput(
            "无法连接部门数据库：" + scrub(first_line(exc), plan.url), slug="pull-source-error"
        ) from exc


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [exc.__class__.__name__])[0][:300]
