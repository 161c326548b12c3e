"""Benchmark: end-to-end batch ingestion (AGG-2…5) against the engines' own limits, same file, same run.

Generates ``--rows`` rows × ``--columns`` (20, or the first 5) columns of a realistic 人口 (population)
export — 公民身份号码 with valid GB 11643 check digits, 统一社会信用代码 made by ``uscc_make``, 6-digit
region codes, Chinese names and addresses, dates, timestamps, amounts (some with thousands separators,
quoted), counts and code-list values, under the Chinese headers a department actually uses — with about
1% of the rows defective in one of twelve ways (wrong check digit, impossible birth date, missing name,
value outside the code list, impossible date, amount that is not a number, count out of range, phone
number breaking the pattern, bad USCC, over-long name, a key repeated in the batch, a logical value that
is not one; with five columns only the seven kinds that touch 公民身份号码, 姓名, 性别, 民族 and 出生日期).
The generator knows which rows are defective, and the benchmark checks that our batch rejected exactly
that many.

Then, in the same run and on the same file:

* ours: the service path the API uses — ``create_batch`` (the upload already on disk, as the API
  leaves it) + ``run_batch`` with policy ``accept_valid`` and mode ``upsert`` into the resource's
  empty table in a throwaway store (``--backend sqlite``: SQLite + DuckDB in a temporary directory;
  ``--backend postgresql``: metadata and data in a throwaway PostgreSQL database, dropped at the end),
  made by ``govdata.bootstrap.initialise`` + the demo region, with a resource declaring exactly the
  file's columns compiled by ga_officer and published by dsj_officer: parse, validate, write the
  errors, apply atomically (history keeps superseded versions). Then a second upsert of the same file
  over the existing rows (every valid key is updated). With ``--via-api`` both runs instead post the
  file through the app (``fastapi.testclient.TestClient``, multipart ``POST
  /api/v1/resources/{code}/batches``, mode upsert, policy accept_valid, wait true, as ga_officer),
  timed from request to response (the batches route warmed first); before each, the app's worker
  finishes the jobs the previous batch's events queued (quality's rescoring), so that each batch
  meets an idle platform. Each of ours is the best of ``--repeat`` runs (3), as each baseline is; a
  first load is rolled back between two. Peak RSS of the process during our runs is sampled from
  ``/proc/self/statm``.
* embedded store: DuckDB ``CREATE TABLE t AS SELECT * FROM read_csv(file, all_varchar)`` into a fresh
  database file + ``CHECKPOINT`` (best of 3), and, for the second run, ``INSERT OR REPLACE`` of the
  file into a table with a primary key on 公民身份号码 already holding it (best of 3);
* PostgreSQL: ``COPY t FROM STDIN (FORMAT csv, HEADER true)`` into a table of text columns with a
  primary key on 公民身份号码, the file streamed in 1 MiB chunks (best of 3), and, for the second run,
  ``COPY`` into a temporary table + ``INSERT … ON CONFLICT (key) DO UPDATE`` (best of 3). A primary key
  refuses a key twice in one load, so these baselines leave out the rows of keys the file repeats (as
  our batch rejects them): ``COPY`` reads a copy of the file without them (made beforehand, untimed),
  the keyed inserts skip them in SQL;
* frictionless ``validate`` (what CKAN's validation uses; embedded store only) on the first
  ``--frictionless-rows`` rows, with a Table Schema carrying the equivalent constraints (types,
  required, maxLength, enum, pattern, minimum/maximum, primary key); it cannot check the GB 11643
  or GB 32100 check characters, so it gets only their patterns;
* DuckDB ``SELECT count(*) FROM read_csv(file)`` (the limit for parsing; best of 3).

Prints one JSON line per baseline to stdout (``ingest_vs_frictionless``, ``ingest_vs_duckdb_read_csv``,
``ingest_vs_duckdb_ctas`` or ``ingest_vs_postgres_copy``, ``ingest_upsert_existing_vs_duckdb_read_csv``,
``ingest_upsert_existing_vs_duckdb_keyed_insert`` or ``ingest_upsert_existing_vs_postgres_upsert``),
each with ``columns``, ``backend``, ``via_api``, ``peak_rss_mib`` (the process's peak RSS up to the end
of that run of ours), ``ours_cpu_s`` (CPU seconds of that run, all threads of this process), ``mib``
(file size) and ``load_1m`` (the machine's load at the end: it is shared, and ratios move with it);
progress and stage timings (``--verbose``) go to stderr.

    .venv/bin/python benchmarks/ingest.py --rows 1000000
    .venv/bin/python benchmarks/ingest.py --rows 1000000 --columns 5 --via-api
    .venv/bin/python benchmarks/ingest.py --rows 1000000 --backend postgresql
    .venv/bin/python benchmarks/ingest.py --rows 10000000 --workdir /tmp/ingest-10m
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import duckdb
import psycopg
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from sqlalchemy import func, select

from govdata.aggregation import service as aggregation
from govdata.aggregation.models import Batch
from govdata.bootstrap import initialise
from govdata.catalog import service as catalog
from govdata.catalog.cli import acting_user
from govdata.catalog.schemas import ResourceIn
from govdata.core import clock
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import ric_check_digit, uscc_make
from govdata.core.jobs import Job, JobState
from govdata.core.observability import configure_logging
from govdata.demo import DEMO_PASSWORD, REGION, create_demo
from govdata.store import open_store

console = Console(stderr=True)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

# --- the resource: 20 items of a population export ------------------------------------------------

NATIONS = [f"{i:02d}" for i in range(1, 57)] + ["97", "98"]
EDUCATION = ["10", "20", "30", "40", "50", "60", "70", "80", "90"]
MARRIAGE = ["10", "20", "21", "22", "23", "30", "40", "90"]

ITEMS: list[dict] = [
    {"code": "gmsfhm", "name": "公民身份号码", "data_type": "C", "length": 18, "required": True, "key": True,
     "level": 3, "element": "公民身份号码"},
    {"code": "xm", "name": "姓名", "data_type": "C", "length": 50, "required": True, "level": 2, "element": "姓名"},
    {"code": "xb", "name": "性别", "data_type": "C", "length": 1, "level": 1, "code_list": ["0", "1", "2", "9"],
     "element": "性别"},
    {"code": "mz", "name": "民族", "data_type": "C", "length": 2, "level": 2, "code_list": NATIONS,
     "element": "民族"},
    {"code": "csrq", "name": "出生日期", "data_type": "D", "level": 2, "element": "出生日期"},
    {"code": "hjdz", "name": "户籍地址", "data_type": "C", "length": 200, "level": 3, "element": "户籍地址"},
    {"code": "xzqhdm", "name": "行政区划代码", "data_type": "C", "length": 6, "level": 1,
     "pattern": "[1-9][0-9]{5}", "element": "行政区划代码"},
    {"code": "lxdh", "name": "联系电话", "data_type": "C", "length": 20, "level": 3, "pattern": "1[3-9][0-9]{9}",
     "element": "联系电话"},
    {"code": "gzdw", "name": "工作单位", "data_type": "C", "length": 200, "level": 2},
    {"code": "dwxydm", "name": "单位统一社会信用代码", "data_type": "C", "length": 18, "level": 1,
     "key_kind": "uscc"},
    {"code": "whcd", "name": "文化程度", "data_type": "C", "length": 2, "level": 2, "code_list": EDUCATION},
    {"code": "hyzk", "name": "婚姻状况", "data_type": "C", "length": 2, "level": 3, "code_list": MARRIAGE},
    {"code": "ysr", "name": "月收入", "data_type": "Y", "level": 3, "minimum": 0, "maximum": 10_000_000},
    {"code": "jtrk", "name": "家庭人口", "data_type": "I", "level": 2, "minimum": 1, "maximum": 20},
    {"code": "sg", "name": "身高", "data_type": "N", "length": 5, "precision": 1, "level": 2, "minimum": 30,
     "maximum": 250},
    {"code": "djrq", "name": "登记日期", "data_type": "D", "level": 1},
    {"code": "gxsj", "name": "更新时间", "data_type": "T", "level": 1},
    {"code": "sfyx", "name": "是否有效", "data_type": "L", "level": 1},
    {"code": "bz", "name": "备注", "data_type": "M", "length": 500, "level": 1},
    {"code": "jzdz", "name": "居住地址", "data_type": "C", "length": 200, "level": 3},
]  # fmt: skip
KEY = ITEMS[0]["name"]  # 公民身份号码, the key of the resource


# CAT-13: the 人口基础库's base items are shared unconditionally
BASE_ELEMENTS = {"公民身份号码", "姓名", "性别", "民族", "出生日期", "出生地", "户籍地址"}


def resource_body(items: list[dict]) -> dict:
    return {
        "name": "常住人口信息（性能测试）",
        "summary": "全市常住人口的身份、户籍、居住与就业信息，每日归集。",
        "classification": "101",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限办理社会保障、民政救助等法定职责使用",
        "legal_basis": "《中华人民共和国居民身份证法》",
        "legal_basis_kind": "law",
        "share_modes": ["verify", "query"],
        "share_methods": ["interface"],
        "usage_requirements": "仅用于申请时载明的履职用途，不得向第三方提供，使用记录留存备查",
        "materials": ["共享申请函（加盖公章）"],
        "open_type": "none",
        "update_cycle": "daily",
        "grade": "important",
        "items": [
            {**item, "share_type": "unconditional" if item.get("element") in BASE_ELEMENTS else "conditional"}
            for item in items
        ],
    }


# --- generating the file ----------------------------------------------------------------------------

REGIONS = [
    "410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825", "410882", "410883",
    "410102", "410103", "410104", "410105", "410302", "410303", "410702", "410703", "411102", "411302",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国建华志强文军海燕红梅春梅晓东晓明丹玲欣怡子涵浩然宇轩梓萱一诺思远嘉怡雨桐俊杰博文佳琪"
DISTRICTS = ["解放区", "山阳区", "中站区", "马村区", "修武县", "博爱县", "武陟县", "温县", "沁阳市", "孟州市"]
STREETS = ["民主路", "解放路", "人民路", "建设路", "塔南路", "丰收路", "太行路", "焦东路", "山阳路", "新华街",
           "工业路", "迎宾路", "和平街", "中原路", "世纪路"]  # fmt: skip
COMPANIES = ["焦作市{}有限公司", "焦作{}科技股份有限公司", "河南{}实业有限公司", "{}建设集团有限公司",
             "焦作市{}商贸有限责任公司"]  # fmt: skip
TRADES = [
    "恒达",
    "鑫源",
    "华润",
    "中原",
    "太行",
    "怀川",
    "山阳",
    "瑞丰",
    "宏远",
    "永安",
    "金泰",
    "博雅",
    "安信",
    "万方",
]
REMARKS = [
    "",
    "",
    "",
    "",
    "",
    "",
    "户籍迁入",
    "外出务工",
    "低保对象",
    "退役军人",
    "在校学生",
    "独居老人，需定期走访",
]
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
BIRTH_FIRST = datetime.date(1940, 1, 1).toordinal()
BIRTH_DAYS = datetime.date(2020, 12, 31).toordinal() - BIRTH_FIRST + 1
ID_SPACE = len(REGIONS) * BIRTH_DAYS * 1000  # region × birth date × sequence: every id is unique
ID_STEP = 7_919_113  # coprime with ID_SPACE: i ↦ i × step mod space is a permutation

# each kind of defect and the column (index into ITEMS) it spoils
DEFECT_COLUMN = {
    "ric_check": 0,
    "ric_date": 0,
    "required": 1,
    "code_list": 2,
    "date": 4,
    "amount": 12,
    "range": 13,
    "pattern": 7,
    "uscc": 9,
    "length": 1,
    "duplicate": 0,
    "logical": 17,
}
DEFECTS = list(DEFECT_COLUMN)


def defects_for(columns: int) -> list[str]:
    """The kinds of defect a file of the first ``columns`` columns can carry."""
    return [kind for kind in DEFECTS if DEFECT_COLUMN[kind] < columns]


@dataclass
class Generated:
    path: Path
    rows: int
    bytes: int
    defective: int
    kinds: dict[str, int] = field(default_factory=dict)
    columns: int = len(ITEMS)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def _person_id(i: int) -> tuple[str, datetime.date, str]:
    n = (i * ID_STEP + 12345) % ID_SPACE
    seq, n = n % 1000, n // 1000
    day, region = n % BIRTH_DAYS, n // BIRTH_DAYS
    birth = datetime.date.fromordinal(BIRTH_FIRST + day)
    first17 = f"{REGIONS[region]}{birth:%Y%m%d}{seq:03d}"
    return first17, birth, REGIONS[region]


def generate(path: Path, rows: int, defect_rate: float, seed: int, columns: int = len(ITEMS)) -> Generated:
    """Write the CSV of the first ``columns`` columns; returns how many rows are defective (every row
    of a repeated key counts). Only the kinds of defect that touch a kept column are made."""
    assert ID_SPACE % ID_STEP, "the step must be coprime with the id space"
    rnd = random.Random(seed)
    choice, rand, randint = rnd.choice, rnd.random, rnd.randint
    possible = defects_for(columns)
    kinds = dict.fromkeys(possible, 0)
    defective = 0
    previous_ok_id: str | None = None  # a valid row's id that a 'duplicate' row may repeat
    companies = [
        uscc_make("9", "1", choice(REGIONS), "".join(rnd.choice(USCC_ALPHABET) for _ in range(8)))
        for _ in range(5000)
    ]
    company_names = [choice(COMPANIES).format(choice(TRADES) + choice(TRADES)) for _ in range(5000)]
    chunk: list[str] = []
    written = 0
    with (
        path.open("w", encoding="utf-8", newline="") as out,
        Progress(
            TextColumn("生成 CSV"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar,
    ):
        task = bar.add_task("generate", total=rows)
        out.write(",".join(item["name"] for item in ITEMS[:columns]) + "\n")
        for i in range(rows):
            first17, birth, region = _person_id(i)
            gmsfhm = first17 + ric_check_digit(first17)
            sex = "1" if int(first17[16]) % 2 else "2"
            name = choice(SURNAMES) + choice(GIVEN) + (choice(GIVEN) if rand() < 0.6 else "")
            district = choice(DISTRICTS)
            home = f"河南省焦作市{district}{choice(STREETS)}{randint(1, 999)}号"
            live = (
                home
                if rand() < 0.6
                else f"焦作市{choice(DISTRICTS)}{choice(STREETS)}{randint(1, 300)}号院{randint(1, 30)}号楼"
            )
            phone = f"1{choice('3456789')}{randint(0, 999_999_999):09d}"
            k = randint(0, 4999)
            employer, uscc = company_names[k], companies[k]
            income = randint(0, 3_000_000) / 100
            amount = f"{income:,.2f}" if rand() < 0.05 else f"{income:.2f}"
            household = str(randint(1, 8))
            height = f"{randint(1500, 1900) / 10:.1f}"
            registered = datetime.date.fromordinal(birth.toordinal() + randint(0, 3650))
            updated = f"2026-{randint(1, 6):02d}-{randint(1, 28):02d} {randint(0, 23):02d}:{randint(0, 59):02d}:{randint(0, 59):02d}"
            valid = "是" if rand() < 0.97 else "否"
            remark = choice(REMARKS)
            row = [
                gmsfhm,
                name,
                sex,
                choice(NATIONS[:3]) if rand() < 0.9 else choice(NATIONS),
                birth.isoformat(),
                home,
                region,
                phone,
                employer,
                uscc,
                choice(EDUCATION),
                choice(MARRIAGE),
                amount,
                household,
                height,
                registered.isoformat(),
                updated,
                valid,
                remark,
                live,
            ]
            if rand() < defect_rate:
                kind = choice(possible)
                if kind == "duplicate" and previous_ok_id is None:
                    kind = "required"
                kinds[kind] += 1
                defective += 1
                if kind == "ric_check":
                    check = gmsfhm[-1]
                    row[0] = first17 + choice([c for c in "0123456789X" if c != check])
                elif kind == "ric_date":
                    bad = first17[:10] + choice(["0230", "1301", "0001", "0431"]) + first17[14:]
                    row[0] = bad + ric_check_digit(bad)
                elif kind == "required":
                    row[1] = ""
                elif kind == "code_list":
                    row[2] = choice(["5", "男", "X"])
                elif kind == "date":
                    row[4] = f"{birth.year}-02-30"
                elif kind == "amount":
                    row[12] = choice(["约3000元", "面议", "N/A"])
                elif kind == "range":
                    row[13] = choice(["0", "35", "-1"])
                elif kind == "pattern":
                    row[7] = f"0391-{randint(1000000, 9999999)}"
                elif kind == "uscc":
                    row[9] = uscc[:-1] + choice([c for c in USCC_ALPHABET if c != uscc[-1]])
                elif kind == "length":
                    row[1] = name * 30
                elif kind == "duplicate":
                    row[0] = previous_ok_id
                    defective += 1  # the earlier row of that key is rejected too
                    previous_ok_id = None
                elif kind == "logical":
                    row[17] = choice(["也许", "未知"])
            else:
                previous_ok_id = gmsfhm
            chunk.append(",".join(_quote(v) for v in row[:columns]))
            if len(chunk) == 20_000:
                out.write("\n".join(chunk) + "\n")
                written += len(chunk)
                chunk.clear()
                bar.update(task, completed=written)
        if chunk:
            out.write("\n".join(chunk) + "\n")
    return Generated(path, rows, path.stat().st_size, defective, kinds, columns)


# --- our batch -------------------------------------------------------------------------------------


class PeakRss:
    """Samples the process's resident set size (``/proc/self/statm``) in a thread."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak, self._stop = interval, 0, threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE")
        self._thread = threading.Thread(target=self._run, daemon=True)

    def current(self) -> int:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * self._page

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.current())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRss:
        self.peak = self.current()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.current())


@dataclass
class Platform:
    settings: Settings
    factory: object
    store: object
    code: str
    client: object = None  # with --via-api: the app's TestClient
    headers: dict = field(default_factory=dict)  # and ga_officer's bearer headers


def make_settings(data_dir: Path, database_url: str | None = None) -> Settings:
    """The store's settings: embedded under ``data_dir``, or metadata and data both in the PostgreSQL
    database ``database_url``."""
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        store_url=database_url,
        admin_password="Bench@Admin-2026",
        secret_key="benchmark",
        log_json=False,
        log_level="WARNING",
    )


def create_database(admin_url: str) -> tuple[str, str]:
    """A throwaway PostgreSQL database; returns (its name, its URL)."""
    name = f"govdata_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_platform(settings: Settings, items: list[dict]) -> Platform:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with console.status("初始化存储与演示地区…"):
        initialise(settings, node_region=REGION)
        engine = make_engine(settings.resolved_database_url())
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            create_demo(session, with_catalog=False)
        with unit_of_work(factory) as session:
            officer = acting_user(session, "ga_officer")
            created, _ = catalog.create_resource(
                session, officer, ResourceIn.model_validate(resource_body(items))
            )
            code = created.code
            catalog.submit_resource(session, officer, code)
            catalog.publish_resource(session, acting_user(session, "dsj_officer"), code)
    store = open_store(settings.resolved_store_url())
    store.initialise()
    return Platform(settings, factory, store, code)


def serve(platform: Platform) -> None:
    """Start the app on the platform's store (it opens the data store itself: DuckDB has one writer)
    and log ga_officer in; the batches are then posted through it."""
    from fastapi.testclient import TestClient

    from govdata.app import create_app

    platform.store.close()
    platform.client = TestClient(create_app(platform.settings)).__enter__()
    response = platform.client.post(
        "/api/v1/auth/token", data={"username": "ga_officer", "password": DEMO_PASSWORD}
    )
    response.raise_for_status()
    platform.headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    # a running server has routed requests to the batches before: the router's first match of a
    # path under a router it includes builds that router's routes once (about 60 ms), not timed here
    response = platform.client.get(f"/api/v1/resources/{platform.code}/batches", headers=platform.headers)
    response.raise_for_status()


def close(platform: Platform) -> None:
    if platform.client is not None:
        platform.client.__exit__(None, None, None)
        platform.client = None
    else:
        platform.store.close()
    platform.factory.kw["bind"].dispose()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def run_ours(platform: Platform, source: Path, checksum: str) -> tuple[float, float, Batch]:
    """One batch through ``create_batch`` + ``run_batch`` (or, with a client, through the API);
    returns (seconds, CPU seconds of the process — all DuckDB threads included — and the finished
    batch)."""
    if platform.client is not None:
        return run_ours_api(platform, source)
    spool = Path(tempfile.mkdtemp(dir=platform.settings.data_dir)) / "upload"
    try:
        os.link(source, spool)  # the API leaves the upload on disk like this; not timed
    except OSError:
        shutil.copyfile(source, spool)
    started, cpu = time.perf_counter(), time.process_time()
    with unit_of_work(platform.factory) as session:
        actor = acting_user(session, "ga_officer")
        upload = aggregation.Upload(spool, source.name, checksum)
        batch_id = aggregation.create_batch(
            session,
            actor,
            platform.settings.data_dir,
            platform.code,
            mode="upsert",
            policy="accept_valid",
            upload=upload,
        ).id
    aggregation.run_batch(platform.factory, platform.store, platform.settings.data_dir, batch_id)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    with unit_of_work(platform.factory) as session:
        batch = session.get(Batch, batch_id)
        session.expunge(batch)
    return seconds, cpu, batch


def roll_back(platform: Platform, batch_id: int) -> None:
    """Undo a first load (not timed), so that the next run is a first load again: as ga_officer,
    through the app when it serves, else through the service."""
    if platform.client is not None:
        response = platform.client.post(f"/api/v1/batches/{batch_id}/rollback", headers=platform.headers)
        response.raise_for_status()
        settle(platform)
        return
    with unit_of_work(platform.factory) as session:
        aggregation.rollback_batch(session, acting_user(session, "ga_officer"), platform.store, batch_id)


def best_of(repeat: int, run, before=None) -> tuple[float, float, object, list[float]]:
    """``run()`` ``repeat`` times (``before(previous batch)`` between two); the fastest run's seconds,
    CPU seconds and batch, and every run's seconds."""
    runs, best, batch = [], None, None
    for index in range(repeat):
        if index and before is not None:
            before(batch)
        seconds, cpu, batch = run()
        runs.append(round(seconds, 3))
        if batch.status != "applied":
            return seconds, cpu, batch, runs
        if best is None or seconds < best[0]:
            best = (seconds, cpu, batch)
    return (*best, runs)


def settle(platform: Platform, timeout: float = 300.0) -> None:
    """Wait until the app's worker has no ready job left: the previous batch's event handlers
    (quality rescores the table, …) run after it, and the next batch is timed on an idle platform,
    as on the service path, where no worker runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with unit_of_work(platform.factory) as session:
            pending = session.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.state.in_([JobState.queued, JobState.running]), Job.run_after <= clock.now())
            )
        if not pending:
            return
        time.sleep(0.1)


def run_ours_api(platform: Platform, source: Path) -> tuple[float, float, SimpleNamespace]:
    """One batch posted through the app, multipart, waiting for the outcome; timed from request to
    response (upload, checksum, queueing, the run and the answer)."""
    with source.open("rb") as fh:
        started, cpu = time.perf_counter(), time.process_time()
        response = platform.client.post(
            f"/api/v1/resources/{platform.code}/batches",
            files={"file": (source.name, fh, "text/csv")},
            data={"mode": "upsert", "policy": "accept_valid", "wait": "true"},
            headers=platform.headers,
        )
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    if response.status_code != 201:
        raise SystemExit(f"API answered {response.status_code}: {response.text[:500]}")
    return seconds, cpu, SimpleNamespace(**response.json())


# --- the baselines ---------------------------------------------------------------------------------


def table_schema(items: list[dict]) -> dict:
    """The resource as a frictionless Table Schema, with every constraint Table Schema can say."""
    types = {"C": "string", "M": "string", "D": "date", "T": "datetime", "Y": "number", "N": "number",
             "I": "integer", "L": "boolean"}  # fmt: skip
    fields = []
    for item in items:
        spec: dict = {"name": item["name"], "type": types[item["data_type"]]}
        constraints: dict = {}
        if item.get("required"):
            constraints["required"] = True
        if item["data_type"] in ("C", "M") and item.get("length"):
            constraints["maxLength"] = item["length"]
        if item.get("code_list"):
            constraints["enum"] = item["code_list"]
        if item.get("pattern"):
            constraints["pattern"] = item["pattern"]
        if item["code"] == "gmsfhm":  # shape and birth date only: no check digit in Table Schema
            constraints["pattern"] = (
                r"[1-9]\d{5}(18|19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
            )
        if item["code"] == "dwxydm":
            constraints["pattern"] = r"[1-9ANY][0-9A-HJ-NPQRTUWXY]\d{6}[0-9A-HJ-NPQRTUWXY]{10}"
        if "minimum" in item:
            constraints["minimum"] = item["minimum"]
        if "maximum" in item:
            constraints["maximum"] = item["maximum"]
        if item["data_type"] == "T":
            spec["format"] = "%Y-%m-%d %H:%M:%S"
        if item["data_type"] == "Y":
            spec["groupChar"] = ","
        if item["data_type"] == "L":
            spec["trueValues"], spec["falseValues"] = ["是", "1", "true"], ["否", "0", "false"]
        if constraints:
            spec["constraints"] = constraints
        fields.append(spec)
    return {"fields": fields, "primaryKey": ["公民身份号码"]}


def head_slice(source: Path, target: Path, rows: int) -> int:
    with source.open("rb") as src, target.open("wb") as out:
        out.write(src.readline())
        count = 0
        for line in src:
            if count == rows:
                break
            out.write(line)
            count += 1
    return count


def run_frictionless(path: Path, rows: int, items: list[dict]) -> tuple[float, int, bool]:
    """Validate the slice; returns (seconds, rows with errors, valid?)."""
    from frictionless import Resource, Schema

    resource = Resource(
        path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(table_schema(items))
    )
    started = time.perf_counter()
    report = resource.validate(limit_errors=10 * rows)
    seconds = time.perf_counter() - started
    task = report.tasks[0]
    bad_rows = {error.row_number for error in task.errors if getattr(error, "row_number", None)}
    return seconds, len(bad_rows), report.valid


def run_duckdb(path: Path, repeat: int = 3) -> tuple[float, int]:
    best, count = float("inf"), 0
    for _ in range(repeat):
        with duckdb.connect() as con:
            started = time.perf_counter()
            count = con.execute(f"SELECT count(*) FROM read_csv('{path}')").fetchall()[0][0]
            best = min(best, time.perf_counter() - started)
    return best, count


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _relation(path: Path) -> str:
    """The file as DuckDB reads it here: header, every column text (as our batch reads it; typed
    sniffing would fail on the defective values past its sample)."""
    return f"read_csv({_literal(str(path))}, header = true, all_varchar = true)"


# rows whose key the file repeats are left out by the keyed baselines: a primary key refuses them
UNIQUE_KEYS = f"QUALIFY count(*) OVER (PARTITION BY {_ident(KEY)}) = 1"


def _fresh(path: Path) -> None:
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)


def run_duckdb_ctas(path: Path, workdir: Path, repeat: int = 3) -> float:
    """``CREATE TABLE t AS SELECT * FROM read_csv(…)`` into a fresh database file, checkpointed."""
    target, best = workdir / "ctas.duckdb", float("inf")
    try:
        for _ in range(repeat):
            _fresh(target)
            with duckdb.connect(str(target)) as con:
                started = time.perf_counter()
                con.execute(f"CREATE TABLE t AS SELECT * FROM {_relation(path)}")
                con.execute("CHECKPOINT")
                best = min(best, time.perf_counter() - started)
    finally:
        _fresh(target)
    return best


def run_duckdb_keyed(path: Path, workdir: Path, header: list[str], repeat: int = 3) -> tuple[float, int]:
    """A table with a primary key on the key column, loaded once from the file (untimed); then
    ``INSERT OR REPLACE`` of the same file over it, checkpointed. Returns (best seconds, rows)."""
    target, best = workdir / "keyed.duckdb", float("inf")
    columns = ", ".join(f"{_ident(name)} VARCHAR" for name in header)
    insert = f"INSERT OR REPLACE INTO t SELECT * FROM {_relation(path)} {UNIQUE_KEYS}"
    try:
        _fresh(target)
        with duckdb.connect(str(target)) as con:
            con.execute(f"CREATE TABLE t ({columns}, PRIMARY KEY ({_ident(KEY)}))")
            con.execute(f"INSERT INTO t SELECT * FROM {_relation(path)} {UNIQUE_KEYS}")
            con.execute("CHECKPOINT")
            rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
            for _ in range(repeat):
                started = time.perf_counter()
                con.execute(insert)
                con.execute("CHECKPOINT")
                best = min(best, time.perf_counter() - started)
            assert con.execute("SELECT count(*) FROM t").fetchall()[0][0] == rows
    finally:
        _fresh(target)
    return best, rows


def unique_key_copy(path: Path, target: Path) -> int:
    """The file without the rows of keys it repeats (for ``COPY`` into a keyed table); its rows."""
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT * FROM {_relation(path)} {UNIQUE_KEYS}) TO {_literal(str(target))} (HEADER)"
        )
        return con.execute(f"SELECT count(*) FROM {_relation(target)}").fetchall()[0][0]


def _copy_in(cur: psycopg.Cursor, table: str, path: Path) -> None:
    with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv, HEADER true)") as copy, path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            copy.write(chunk)


def run_postgres_copy(url: str, path: Path, header: list[str], repeat: int = 3) -> float:
    """``COPY`` of the file into a fresh table of text columns with a primary key on the key column."""
    columns = ", ".join(f"{_ident(name)} text" for name in header)
    best = float("inf")
    with psycopg.connect(url) as conn:
        for _ in range(repeat):
            conn.execute("DROP TABLE IF EXISTS bench_copy")
            conn.execute(f"CREATE TABLE bench_copy ({columns}, PRIMARY KEY ({_ident(KEY)}))")
            conn.commit()
            started = time.perf_counter()
            with conn.cursor() as cur:
                _copy_in(cur, "bench_copy", path)
            conn.commit()
            best = min(best, time.perf_counter() - started)
        conn.execute("DROP TABLE bench_copy")
        conn.commit()
    return best


def run_postgres_upsert(url: str, path: Path, unique: Path, header: list[str], repeat: int = 3) -> float:
    """A keyed table loaded once (untimed); then the file ``COPY``-staged into a temporary table and
    ``INSERT … ON CONFLICT (key) DO UPDATE`` from it, keys the file repeats left out, committed."""
    columns = ", ".join(f"{_ident(name)} text" for name in header)
    key = _ident(KEY)
    updates = ", ".join(f"{_ident(name)} = EXCLUDED.{_ident(name)}" for name in header if name != KEY)
    best = float("inf")
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_keyed")
        conn.execute(f"CREATE TABLE bench_keyed ({columns}, PRIMARY KEY ({key}))")
        with conn.cursor() as cur:
            _copy_in(cur, "bench_keyed", unique)
        conn.execute("ANALYZE bench_keyed")
        conn.commit()
        for _ in range(repeat):
            started = time.perf_counter()
            conn.execute(f"CREATE TEMP TABLE bench_stage ({columns}) ON COMMIT DROP")
            with conn.cursor() as cur:
                _copy_in(cur, "bench_stage", path)
            conn.execute(
                f"INSERT INTO bench_keyed SELECT * FROM bench_stage WHERE {key} IN "
                f"(SELECT {key} FROM bench_stage GROUP BY {key} HAVING count(*) = 1) "
                f"ON CONFLICT ({key}) DO UPDATE SET {updates}"
            )
            conn.commit()
            best = min(best, time.perf_counter() - started)
        conn.execute("DROP TABLE bench_keyed")
        conn.commit()
    return best


# --- main --------------------------------------------------------------------------------------------


def _description(source: Path) -> Path:
    return source.with_suffix(".json")


def describe(source: Path, args: argparse.Namespace, generated: Generated) -> None:
    """Record how the file was made, so that a later run with the same ``--workdir`` can reuse it."""
    made = {"rows": args.rows, "columns": args.columns, "defect_rate": args.defect_rate, "seed": args.seed}
    made |= {"bytes": generated.bytes, "defective": generated.defective, "kinds": generated.kinds}
    _description(source).write_text(json.dumps(made, ensure_ascii=False))


def reuse(source: Path, args: argparse.Namespace) -> Generated | None:
    """The file a previous run generated in this working directory, if it was made the same way."""
    try:
        made = json.loads(_description(source).read_text())
    except (OSError, ValueError):
        return None
    columns = made.get("columns", len(ITEMS))
    same = (made["rows"], columns, made["defect_rate"], made["seed"]) == (
        args.rows,
        args.columns,
        args.defect_rate,
        args.seed,
    )
    if not same or not source.exists() or source.stat().st_size != made["bytes"]:
        return None
    return Generated(source, made["rows"], made["bytes"], made["defective"], made["kinds"], columns)


def line(name: str, rows: int, ours: float, baseline: float, baseline_name: str, **extra) -> str:
    return json.dumps(
        {
            "name": name,
            "rows": rows,
            "ours": round(ours),
            "baseline": round(baseline),
            "baseline_name": baseline_name,
            "ratio": round(ours / baseline, 3),
            "unit": "rows/s",
            **extra,
        },
        ensure_ascii=False,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--columns",
        type=int,
        choices=[5, len(ITEMS)],
        default=len(ITEMS),
        help="the file's (and the resource's) columns: all 20, or the first 5",
    )
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="our store: embedded (SQLite + DuckDB), or a throwaway PostgreSQL database on "
        f"GOVDATA_TEST_POSTGRES_URL (default {DEFAULT_POSTGRES}), dropped at the end",
    )
    parser.add_argument(
        "--via-api",
        action="store_true",
        help="post the file through the app (multipart upload, wait=true) instead of calling the service",
    )
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--frictionless-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (file and store)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where to work (default: a new temporary directory); a file generated there before with the "
        "same --rows, --columns, --defect-rate and --seed is reused, the store is always made afresh",
    )
    parser.add_argument(
        "--skip-second",
        action="store_true",
        help="skip the second upsert over existing rows (and its keyed baseline)",
    )
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of ours, best taken as for the baselines (a first load is rolled back between two)",
    )
    parser.add_argument("--verbose", action="store_true", help="show run_batch's stage timings")
    args = parser.parse_args()

    configure_logging("INFO" if args.verbose else "WARNING", json_logs=False)
    admin_url = os.environ.get("GOVDATA_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    items = ITEMS[: args.columns]
    header = [item["name"] for item in items]
    postgres = args.backend == "postgresql"
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="govdata-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"工作目录：{workdir}")
    database = None
    try:
        name = "population.csv" if args.columns == len(ITEMS) else f"population-{args.columns}col.csv"
        source = workdir / name
        generated = reuse(source, args) if args.workdir else None
        if generated is None:
            started = time.perf_counter()
            generated = generate(source, args.rows, args.defect_rate, args.seed, args.columns)
            console.print(
                f"已生成 {generated.rows:,} 行 × {args.columns} 列（{generated.bytes / 2**20:.0f} MiB），"
                f"缺陷行 {generated.defective:,}，用时 {time.perf_counter() - started:.0f} 秒：{generated.kinds}"
            )
            describe(source, args, generated)
        else:
            console.print(f"沿用已生成的文件：{generated.rows:,} 行，缺陷行 {generated.defective:,}")
        checksum = sha256(source)
        shutil.rmtree(workdir / "store", ignore_errors=True)
        database_url = None
        if postgres:
            database, database_url = create_database(admin_url)
            console.print(f"PostgreSQL 临时库：{database}")
        platform = build_platform(make_settings(workdir / "store", database_url), items)
        try:
            if args.via_api:
                serve(platform)
            with PeakRss() as rss:
                first_seconds, first_cpu, first, first_runs = best_of(
                    args.repeat,
                    lambda: run_ours(platform, source, checksum),
                    before=lambda previous: roll_back(platform, previous.id),
                )
                first_peak = rss.peak
                console.print(
                    f"ours（空表 upsert）：{first_seconds:.2f} 秒（CPU {first_cpu:.1f} 秒），{first.status}"
                    f"，总 {first.rows_total:,}，入库 {first.rows_applied:,}，拒绝 {first.rows_rejected:,}"
                    f"，RSS 峰值 {first_peak / 2**20:.0f} MiB"
                )
                if first.status != "applied" or first.rows_total != args.rows:
                    console.print(f"[red]批次未按预期入库：{first.message}[/red]")
                    return 1
                if first.rows_rejected != generated.defective:
                    console.print(
                        f"[red]拒绝行数 {first.rows_rejected} 与生成的缺陷行数 {generated.defective} 不符[/red]"
                    )
                    return 1
                second_seconds = None
                if not args.skip_second:

                    def upsert():
                        if platform.client is not None:
                            settle(platform)
                        return run_ours(platform, source, checksum)

                    second_seconds, second_cpu, second, second_runs = best_of(args.repeat, upsert)
                    console.print(
                        f"ours（覆盖已有行的 upsert）：{second_seconds:.2f} 秒（CPU {second_cpu:.1f} 秒），"
                        f"{second.status}，更新 {second.rows_updated:,}，新增 {second.rows_inserted:,}"
                        f"，RSS 峰值 {rss.peak / 2**20:.0f} MiB"
                    )
                    if second.status != "applied" or second.rows_updated != first.rows_applied:
                        console.print(f"[red]第二批未按预期更新：{second.message}[/red]")
                        return 1
        finally:
            close(platform)

        duck_seconds, duck_rows = run_duckdb(source)
        assert duck_rows == args.rows, duck_rows
        console.print(f"DuckDB read_csv + count：{duck_seconds:.2f} 秒")
        first_run = {"ours_seconds": round(first_seconds, 3), "ours_cpu_s": round(first_cpu, 2)}
        first_run["ours_runs"] = first_runs
        first_run["peak_rss_mib"] = round(first_peak / 2**20)
        second_run = {}
        if second_seconds is not None:
            second_run = {"ours_seconds": round(second_seconds, 3), "ours_cpu_s": round(second_cpu, 2)}
            second_run["ours_runs"] = second_runs
            second_run["peak_rss_mib"] = round(rss.peak / 2**20)
        # name, our seconds, the baseline's rows and seconds, its label, our run's figures
        results: list[tuple[str, float, int, float, str, dict]] = []

        if not postgres and not args.skip_frictionless:
            sliced = workdir / "slice.csv"
            slice_rows = head_slice(source, sliced, args.frictionless_rows)
            with console.status(f"frictionless validate（{slice_rows:,} 行）…"):
                fl_seconds, fl_bad, _ = run_frictionless(sliced, slice_rows, items)
            sliced.unlink()
            console.print(f"frictionless validate：{fl_seconds:.2f} 秒，发现 {fl_bad:,} 行有错误")
            label = f"frictionless validate ({slice_rows} rows)"
            results.append(
                ("ingest_vs_frictionless", first_seconds, slice_rows, fl_seconds, label, first_run)
            )
        label = "duckdb read_csv + count"
        results.append(
            ("ingest_vs_duckdb_read_csv", first_seconds, args.rows, duck_seconds, label, first_run)
        )
        if not postgres:
            with console.status("DuckDB CREATE TABLE AS …"):
                ctas_seconds = run_duckdb_ctas(source, workdir)
            console.print(f"DuckDB CREATE TABLE AS SELECT * FROM read_csv：{ctas_seconds:.2f} 秒")
            label = (
                "duckdb CREATE TABLE t AS SELECT * FROM read_csv (all_varchar) into a fresh file + CHECKPOINT"
            )
            results.append(
                ("ingest_vs_duckdb_ctas", first_seconds, args.rows, ctas_seconds, label, first_run)
            )
        else:
            unique = workdir / "unique-keys.csv"
            unique_rows = unique_key_copy(source, unique)
            with console.status("PostgreSQL COPY …"):
                copy_seconds = run_postgres_copy(database_url, unique, header)
            console.print(f"PostgreSQL COPY（{unique_rows:,} 行，键唯一）：{copy_seconds:.2f} 秒")
            label = (
                f"postgresql COPY FROM STDIN (csv, 1 MiB chunks) into a text table keyed on {KEY} "
                f"(the file without the rows of repeated keys: {unique_rows} rows)"
            )
            results.append(
                ("ingest_vs_postgres_copy", first_seconds, unique_rows, copy_seconds, label, first_run)
            )
        if second_seconds is not None:
            label = "duckdb read_csv + count"
            results.append(
                (
                    "ingest_upsert_existing_vs_duckdb_read_csv",
                    second_seconds,
                    args.rows,
                    duck_seconds,
                    label,
                    second_run,
                )
            )
            if not postgres:
                with console.status("DuckDB INSERT OR REPLACE …"):
                    keyed_seconds, keyed_rows = run_duckdb_keyed(source, workdir, header)
                console.print(f"DuckDB INSERT OR REPLACE（表中 {keyed_rows:,} 行）：{keyed_seconds:.2f} 秒")
                label = (
                    f"duckdb INSERT OR REPLACE INTO t (primary key {KEY}, holding the file) "
                    "SELECT * FROM read_csv (all_varchar; rows of repeated keys left out) + CHECKPOINT"
                )
                name = "ingest_upsert_existing_vs_duckdb_keyed_insert"
                results.append((name, second_seconds, args.rows, keyed_seconds, label, second_run))
            else:
                with console.status("PostgreSQL COPY + INSERT … ON CONFLICT …"):
                    upsert_seconds = run_postgres_upsert(database_url, source, unique, header)
                console.print(f"PostgreSQL COPY 到临时表 + INSERT … ON CONFLICT：{upsert_seconds:.2f} 秒")
                label = (
                    f"postgresql COPY into a temp table + INSERT INTO t (primary key {KEY}, holding the file) "
                    "SELECT … ON CONFLICT DO UPDATE (rows of repeated keys left out)"
                )
                name = "ingest_upsert_existing_vs_postgres_upsert"
                results.append((name, second_seconds, args.rows, upsert_seconds, label, second_run))
        if postgres:
            unique.unlink()

        ru_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        console.print(f"进程 RSS 峰值（含基准）：{ru_peak:.0f} MiB")
        common = {"columns": args.columns, "backend": args.backend, "via_api": args.via_api}
        common |= {"mib": round(generated.bytes / 2**20, 1), "load_1m": round(os.getloadavg()[0], 2)}
        for name, ours_seconds, baseline_rows, baseline_seconds, label, run in results:
            fields = {**run, "baseline_seconds": round(baseline_seconds, 3), **common}
            ours_rate, baseline_rate = args.rows / ours_seconds, baseline_rows / baseline_seconds
            print(line(name, args.rows, ours_rate, baseline_rate, label, **fields), flush=True)
        return 0
    finally:
        if database:
            drop_database(admin_url, database)
        if args.keep:
            console.print(f"已保留：{workdir}")
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
