"""Reading the department's rows: streamed in chunks from the read-only connection into a Parquet file
of text columns (as every batch source becomes), no faster than the pull's row rate, stopping at its
deadline, at the end of its time window, or when the server stops."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from govdata.aggregation.pulls.schedule import in_window
from govdata.aggregation.pulls.source import (
    Plan,
    PullEnv,
    PullStopped,
    first_line,
    is_timeout,
    pg_timeouts,
    read_only_connection,
    scrub,
)
from govdata.aggregation.pulls.watermark import max_watermark, watermark_index
from govdata.core.clock import CHINA

CHUNK_ROWS = 5000
ROW_GROUP_ROWS = 100_000


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
                array = pc.local_timestamp(array.cast(pa.timestamp(kind.unit, tz=CHINA.key)))
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
            mark = watermark_index(plan, columns)
            schema = pa.schema([(c, pa.string()) for c in columns])
            writer = pq.ParquetWriter(str(target), schema)
            while True:
                if plan.dialect == "postgresql":
                    pg_timeouts(conn, deadline)
                rows = cursor.fetchmany(chunk)
                if not rows:
                    break
                cells = list(zip(*rows, strict=True))
                buffered.append(pa.table([_text_array(list(col)) for col in cells], schema=schema))
                result.rows += len(rows)
                if mark is not None:
                    result.high = max_watermark(result.high, cells[mark])
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
        if is_timeout(exc):
            raise PullStopped(
                f"超过超时时间（{plan.timeout_seconds} 秒），部门数据库已中止查询。数据未入库。"
            ) from exc
        raise PullStopped("读取部门数据库出错：" + scrub(first_line(exc.orig), plan.url)) from exc
    except SQLAlchemyError as exc:
        raise PullStopped("连接部门数据库出错：" + scrub(first_line(exc), plan.url)) from exc
    finally:
        if writer is not None:
            writer.close()
    return result
