"""Benchmark: end-to-end batch ingestion (AGG-2…5) vs frictionless ``validate`` and DuckDB ``read_csv``.

Generates ``--rows`` rows × 20 columns of a realistic 人口 (population) export — 公民身份号码 with valid
GB 11643 check digits, 统一社会信用代码 made by ``uscc_make``, 6-digit region codes, Chinese names
and addresses, dates, timestamps, amounts (some with thousands separators, quoted), counts and
code-list values, under the Chinese headers a department actually uses — with about 1% of the
rows defective in one of twelve ways (wrong check digit, impossible birth date, missing name,
value outside the code list, impossible date, amount that is not a number, count out of range,
phone number breaking the pattern, bad USCC, over-long name, a key repeated in the batch, a
logical value that is not one). The generator knows which rows are defective, and the benchmark
checks that our batch rejected exactly that many.

Then, in the same run and on the same file:

* ours: the service path the API uses — ``create_batch`` (the upload already on disk, as the API
  leaves it) + ``run_batch`` with policy ``accept_valid`` and mode ``upsert`` into the resource's
  empty table in a throwaway embedded store (SQLite + DuckDB, ``govdata.bootstrap.initialise`` +
  the demo region, a 20-item resource compiled by ga_officer and published by dsj_officer):
  parse, validate, write the errors, apply atomically (history keeps superseded versions). Then a second upsert of the
  same file over the existing rows (every valid key is updated). Peak RSS of the process during
  our runs is sampled from ``/proc/self/statm``.
* baseline 1: frictionless ``validate`` (what CKAN's validation uses) on the first
  ``--frictionless-rows`` rows, with a Table Schema carrying the equivalent constraints (types,
  required, maxLength, enum, pattern, minimum/maximum, primary key); it cannot check the GB 11643
  or GB 32100 check characters, so it gets only their patterns.
* baseline 2: DuckDB ``SELECT count(*) FROM read_csv(file)`` (the limit for parsing; best of 3).

Prints one JSON line per baseline to stdout (``ingest_vs_frictionless``, ``ingest_vs_duckdb_read_csv``
and ``ingest_upsert_existing_vs_duckdb_read_csv``), each with ``peak_rss_mib`` (the process's peak
RSS up to the end of that run of ours), ``ours_cpu_s`` (CPU seconds of that run, all threads),
``mib`` (file size) and ``load_1m`` (the machine's load at the end: it is shared, and ratios move
with it); progress and stage timings (``--verbose``) go to stderr.

    .venv/bin/python benchmarks/ingest.py --rows 1000000
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
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from govdata.aggregation import service as aggregation
from govdata.aggregation.models import Batch
from govdata.bootstrap import initialise
from govdata.catalog import service as catalog
from govdata.catalog.cli import acting_user
from govdata.catalog.schemas import ResourceIn
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.core.ids import ric_check_digit, uscc_make
from govdata.core.observability import configure_logging
from govdata.demo import REGION, create_demo
from govdata.store import open_store

console = Console(stderr=True)

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
HEADER = [item["name"] for item in ITEMS]


def resource_body() -> dict:
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
        "materials": ["共享申请函（加盖公章）"],
        "open_type": "none",
        "update_cycle": "daily",
        "grade": "important",
        "items": ITEMS,
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

DEFECTS = [
    "ric_check",
    "ric_date",
    "required",
    "code_list",
    "date",
    "amount",
    "range",
    "pattern",
    "uscc",
    "length",
    "duplicate",
    "logical",
]


@dataclass
class Generated:
    path: Path
    rows: int
    bytes: int
    defective: int
    kinds: dict[str, int] = field(default_factory=dict)


def _quote(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def _person_id(i: int) -> tuple[str, datetime.date, str]:
    n = (i * ID_STEP + 12345) % ID_SPACE
    seq, n = n % 1000, n // 1000
    day, region = n % BIRTH_DAYS, n // BIRTH_DAYS
    birth = datetime.date.fromordinal(BIRTH_FIRST + day)
    first17 = f"{REGIONS[region]}{birth:%Y%m%d}{seq:03d}"
    return first17, birth, REGIONS[region]


def generate(path: Path, rows: int, defect_rate: float, seed: int) -> Generated:
    """Write the CSV; returns how many rows are defective (every row of a repeated key counts)."""
    assert ID_SPACE % ID_STEP, "the step must be coprime with the id space"
    rnd = random.Random(seed)
    choice, rand, randint = rnd.choice, rnd.random, rnd.randint
    kinds = dict.fromkeys(DEFECTS, 0)
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
        out.write(",".join(HEADER) + "\n")
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
                kind = choice(DEFECTS)
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
            chunk.append(",".join(_quote(v) for v in row))
            if len(chunk) == 20_000:
                out.write("\n".join(chunk) + "\n")
                written += len(chunk)
                chunk.clear()
                bar.update(task, completed=written)
        if chunk:
            out.write("\n".join(chunk) + "\n")
    return Generated(path, rows, path.stat().st_size, defective, kinds)


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


def build_platform(data_dir: Path) -> Platform:
    settings = Settings(
        data_dir=data_dir,
        admin_password="Bench@Admin-2026",
        secret_key="benchmark",
        log_json=False,
        log_level="WARNING",
    )
    with console.status("初始化存储与演示地区…"):
        initialise(settings, node_region=REGION)
        engine = make_engine(settings.resolved_database_url())
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            create_demo(session, with_catalog=False)
        with unit_of_work(factory) as session:
            officer = acting_user(session, "ga_officer")
            created, _ = catalog.create_resource(session, officer, ResourceIn.model_validate(resource_body()))
            code = created.code
            catalog.submit_resource(session, officer, code)
            catalog.publish_resource(session, acting_user(session, "dsj_officer"), code)
    store = open_store(settings.resolved_store_url())
    store.initialise()
    return Platform(settings, factory, store, code)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def run_ours(platform: Platform, source: Path, checksum: str) -> tuple[float, float, Batch]:
    """One batch through ``create_batch`` + ``run_batch``; returns (seconds, CPU seconds of the
    process — all DuckDB threads included — and the finished batch)."""
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


# --- the baselines ---------------------------------------------------------------------------------


def table_schema() -> dict:
    """The resource as a frictionless Table Schema, with every constraint Table Schema can say."""
    types = {"C": "string", "M": "string", "D": "date", "T": "datetime", "Y": "number", "N": "number",
             "I": "integer", "L": "boolean"}  # fmt: skip
    fields = []
    for item in ITEMS:
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


def run_frictionless(path: Path, rows: int) -> tuple[float, int, bool]:
    """Validate the slice; returns (seconds, rows with errors, valid?)."""
    from frictionless import Resource, Schema

    resource = Resource(
        path=path.name, basepath=str(path.parent), schema=Schema.from_descriptor(table_schema())
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


# --- main --------------------------------------------------------------------------------------------


def _description(source: Path) -> Path:
    return source.with_suffix(".json")


def describe(source: Path, args: argparse.Namespace, generated: Generated) -> None:
    """Record how the file was made, so that a later run with the same ``--workdir`` can reuse it."""
    made = {"rows": args.rows, "defect_rate": args.defect_rate, "seed": args.seed, "bytes": generated.bytes}
    made |= {"defective": generated.defective, "kinds": generated.kinds}
    _description(source).write_text(json.dumps(made, ensure_ascii=False))


def reuse(source: Path, args: argparse.Namespace) -> Generated | None:
    """The file a previous run generated in this working directory, if it was made the same way."""
    try:
        made = json.loads(_description(source).read_text())
    except (OSError, ValueError):
        return None
    same = (made["rows"], made["defect_rate"], made["seed"]) == (args.rows, args.defect_rate, args.seed)
    if not same or not source.exists() or source.stat().st_size != made["bytes"]:
        return None
    return Generated(source, made["rows"], made["bytes"], made["defective"], made["kinds"])


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
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--frictionless-rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20260)
    parser.add_argument("--keep", action="store_true", help="keep the working directory (file and store)")
    parser.add_argument(
        "--workdir",
        type=Path,
        help="where to work (default: a new temporary directory); a file generated there before with the "
        "same --rows, --defect-rate and --seed is reused, the store is always made afresh",
    )
    parser.add_argument(
        "--skip-second", action="store_true", help="skip the second upsert over existing rows"
    )
    parser.add_argument("--skip-frictionless", action="store_true")
    parser.add_argument("--verbose", action="store_true", help="show run_batch's stage timings")
    args = parser.parse_args()

    configure_logging("INFO" if args.verbose else "WARNING", json_logs=False)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="govdata-ingest-"))
    workdir.mkdir(parents=True, exist_ok=True)
    console.print(f"工作目录：{workdir}")
    try:
        source = workdir / "population.csv"
        generated = reuse(source, args) if args.workdir else None
        if generated is None:
            started = time.perf_counter()
            generated = generate(source, args.rows, args.defect_rate, args.seed)
            console.print(
                f"已生成 {generated.rows:,} 行（{generated.bytes / 2**20:.0f} MiB），缺陷行 {generated.defective:,}"
                f"，用时 {time.perf_counter() - started:.0f} 秒：{generated.kinds}"
            )
            describe(source, args, generated)
        else:
            console.print(f"沿用已生成的文件：{generated.rows:,} 行，缺陷行 {generated.defective:,}")
        checksum = sha256(source)
        shutil.rmtree(workdir / "store", ignore_errors=True)
        platform = build_platform(workdir / "store")

        with PeakRss() as rss:
            first_seconds, first_cpu, first = run_ours(platform, source, checksum)
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
                second_seconds, second_cpu, second = run_ours(platform, source, checksum)
                console.print(
                    f"ours（覆盖已有行的 upsert）：{second_seconds:.2f} 秒（CPU {second_cpu:.1f} 秒），"
                    f"{second.status}，更新 {second.rows_updated:,}，新增 {second.rows_inserted:,}"
                    f"，RSS 峰值 {rss.peak / 2**20:.0f} MiB"
                )
                if second.status != "applied" or second.rows_updated != first.rows_applied:
                    console.print(f"[red]第二批未按预期更新：{second.message}[/red]")
                    return 1
        platform.store.close()

        duck_seconds, duck_rows = run_duckdb(source)
        assert duck_rows == args.rows, duck_rows
        console.print(f"DuckDB read_csv + count：{duck_seconds:.2f} 秒")
        ours_rate = args.rows / first_seconds
        duck_rate = args.rows / duck_seconds
        extra = {
            "peak_rss_mib": round(first_peak / 2**20),
            "ours_cpu_s": round(first_cpu, 2),
            "mib": round(generated.bytes / 2**20),
            "load_1m": round(os.getloadavg()[0], 2),
        }
        lines = []
        if not args.skip_frictionless:
            sliced = workdir / "slice.csv"
            slice_rows = head_slice(source, sliced, args.frictionless_rows)
            with console.status(f"frictionless validate（{slice_rows:,} 行）…"):
                fl_seconds, fl_bad, _ = run_frictionless(sliced, slice_rows)
            console.print(f"frictionless validate：{fl_seconds:.2f} 秒，发现 {fl_bad:,} 行有错误")
            lines.append(
                line(
                    "ingest_vs_frictionless",
                    args.rows,
                    ours_rate,
                    slice_rows / fl_seconds,
                    f"frictionless validate ({slice_rows} rows)",
                    **extra,
                )
            )
        lines.append(
            line(
                "ingest_vs_duckdb_read_csv",
                args.rows,
                ours_rate,
                duck_rate,
                "duckdb read_csv + count",
                **extra,
            )
        )
        if second_seconds is not None:
            lines.append(
                line(
                    "ingest_upsert_existing_vs_duckdb_read_csv",
                    args.rows,
                    args.rows / second_seconds,
                    duck_rate,
                    "duckdb read_csv + count",
                    **(extra | {"peak_rss_mib": round(rss.peak / 2**20), "ours_cpu_s": round(second_cpu, 2)}),
                )
            )
        ru_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        console.print(f"进程 RSS 峰值（含基准）：{ru_peak:.0f} MiB")
        for text in lines:
            print(text, flush=True)
        return 0
    finally:
        if args.keep:
            console.print(f"已保留：{workdir}")
        elif args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
