"""Benchmark: query by key under a grant (SHR-6, NF-3) vs a bare Starlette endpoint, both under Uvicorn.

Builds a fresh store — embedded (SQLite + DuckDB in a temporary directory) or, with ``--backend
postgresql``, a throwaway PostgreSQL database dropped afterwards — with ``govdata.bootstrap.initialise``
and the demo region (``create_demo(with_catalog=False)``: departments, users, the application system of
市人社局 and its credential). 市公安局 compiles and 市大数据局 publishes a population resource (the base
items of 人口基础信息, shared unconditionally, plus 联系电话 and 居住地址, shared on conditions; modes
verify, query and exchange), and ``--rows`` records (valid GB 11643 ids, each distinct) are generated as a CSV and
loaded through the product's own batch path (``create_batch`` + ``run_batch``, as the API's upload);
the jobs the batch leaves queued (event handlers such as quality scoring) run before any server starts.
市公安局's officer then objects to ``--under-review`` of the records (1 % by default: every hundredth),
through the objections service, so that every answer asks the "under review" lookup (COR-3) with that
many keys under review on the resource.

Then the app is started as ``govdata serve`` starts it (``govdata.app:create_app`` under Uvicorn, in a
subprocess), and 市人社局's ``rs_user`` applies through ``POST /api/v1/applications`` for query on six
items (联系电话 among them) for the demo system with ``rate_limit`` 1,000,000, which 市公安局 approves
with that limit (a grant made at once for unconditional items keeps the default 600 a minute). The
platform's own limit per caller (``GOVDATA_RATE_LIMIT_PER_MINUTE``) is raised to the same figure, as a
deployment serving such a system would set it. Usage logging and audit stay on, as in production.

Three measurements, in this order, with the same client at the same concurrency:

* client ceiling: a canned HTTP response from a plain asyncio server (no framework): what the client
  alone can do, so that it is known not to be the bottleneck;
* ours: ``GET /api/v1/share/{code}/records?key=<a random existing key>`` with the system's bearer
  token (and ``X-End-User``), ``--requests`` calls at ``--concurrency``, after ``--warmup`` calls;
* baseline: a bare Starlette app answering the same path with ``JSONResponse`` of one of our answers
  (a JSON body of the same size), under the same Uvicorn settings.

Both servers: one worker, no access log, asyncio loop, h11 (what ``govdata serve`` picks here: neither
uvloop nor httptools is installed), no proxy headers. The client is a small asyncio HTTP/1.1 client
on keep-alive connections (one per concurrent caller); every answer must be 200.

Prints one JSON line (requests/s; ``ours_p50``/``ours_p99``/``baseline_p50``/``baseline_p99`` in ms,
``client_ceiling`` in requests/s, the servers' CPU ms per request, ``usage_logged``: calls in the usage
log after the run, ``load_1m``); progress goes to stderr.

    .venv/bin/python benchmarks/share_lookup.py --rows 50000 --requests 2000
    .venv/bin/python benchmarks/share_lookup.py                                  # 1,000,000 rows
    .venv/bin/python benchmarks/share_lookup.py --backend postgresql
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from rich.console import Console

from govdata.core.ids import ric_check_digit

console = Console(stderr=True)
HERE = Path(__file__).resolve().parent
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_PASSWORD = "Bench@Share-2026"
SECRET_KEY = "benchmark"
RATE_LIMIT = 1_000_000  # the grant's, and the platform's per caller: far above what the run asks
END_USER = "王社保"
# one worker, no access log, the same loop and HTTP implementation for every server of the run
UVICORN_OPTIONS = [
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    "--no-access-log",
    "--loop",
    "asyncio",
    "--http",
    "h11",
    "--no-proxy-headers",
    "--log-level",
    "warning",
]
LOOKUP_ITEMS = ["gmsfhm", "xm", "xb", "csrq", "hjdz", "lxdh"]  # 联系电话 is conditional: the provider decides
CONDITIONAL = {"lxdh", "jzdz"}
BUILD_VERSION = 3  # a store built by an earlier layout of this script is not reused

# --- the resource: 人口基础信息 (base items unconditional) with two conditional items --------------------

ITEMS: list[dict] = [
    {"code": "gmsfhm", "name": "公民身份号码", "data_type": "C", "length": 18, "required": True, "key": True,
     "level": 3, "element": "公民身份号码"},
    {"code": "xm", "name": "姓名", "data_type": "C", "length": 50, "required": True, "level": 2, "element": "姓名"},
    {"code": "xb", "name": "性别", "data_type": "C", "length": 1, "level": 1, "code_list": ["0", "1", "2", "9"],
     "element": "性别"},
    {"code": "csrq", "name": "出生日期", "data_type": "D", "level": 2, "element": "出生日期"},
    {"code": "hjdz", "name": "户籍地址", "data_type": "C", "length": 200, "level": 3, "element": "户籍地址"},
    {"code": "lxdh", "name": "联系电话", "data_type": "C", "length": 20, "level": 3},
    {"code": "jzdz", "name": "居住地址", "data_type": "C", "length": 200, "level": 3},
]  # fmt: skip
HEADER = [item["name"] for item in ITEMS]


def resource_body() -> dict:
    return {
        "name": "人口基础信息（共享性能测试）",
        "summary": "全市户籍人口的基础身份信息，每日更新。",
        "classification": "101",
        "format": "database",
        "share_type": "conditional",
        "share_conditions": "仅限办理社会保障、民政救助等法定职责使用",
        "legal_basis": "《中华人民共和国居民身份证法》",
        "legal_basis_kind": "law",
        "share_modes": ["verify", "query", "exchange"],
        "share_methods": ["interface"],
        "usage_requirements": "仅用于申请时载明的履职用途，不得向第三方提供，使用记录留存备查",
        "open_type": "none",
        "update_cycle": "daily",
        "grade": "important",
        "materials": ["共享申请函（加盖公章）", "数据安全承诺书"],
        "items": [
            {**item, "share_type": "conditional" if item["code"] in CONDITIONAL else "unconditional"}
            for item in ITEMS
        ],
    }


# --- the records: distinct, valid 公民身份号码 -----------------------------------------------------------

REGIONS = [
    "410802", "410803", "410804", "410811", "410821", "410822", "410823", "410825", "410882", "410883",
    "410102", "410103", "410104", "410105", "410302", "410303", "410702", "410703", "411102", "411302",
]  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华建国志文海燕红梅春晓东丹玲欣怡涵浩然宇轩梓萱诺思远嘉雨桐俊博佳琪"
DISTRICTS = ["解放区", "山阳区", "中站区", "马村区", "修武县", "博爱县", "武陟县", "温县", "沁阳市", "孟州市"]
STREETS = ["民主路", "解放路", "人民路", "建设路", "塔南路", "丰收路", "太行路", "焦东路", "山阳路", "新华街"]
BIRTH_FIRST = dt.date(1940, 1, 1).toordinal()
BIRTH_DAYS = dt.date(2020, 12, 31).toordinal() - BIRTH_FIRST + 1
ID_SPACE = len(REGIONS) * BIRTH_DAYS * 1000  # region × birth date × sequence
ID_STEP = 7_919_113  # coprime with ID_SPACE: i ↦ i × step mod space is a permutation, so ids are distinct


def person(i: int) -> tuple[str, dt.date]:
    """The ``i``-th record's 公民身份号码 and birth date."""
    n = (i * ID_STEP + 12345) % ID_SPACE
    seq, n = n % 1000, n // 1000
    day, region = n % BIRTH_DAYS, n // BIRTH_DAYS
    birth = dt.date.fromordinal(BIRTH_FIRST + day)
    first17 = f"{REGIONS[region]}{birth:%Y%m%d}{seq:03d}"
    return first17 + ric_check_digit(first17), birth


def generate(path: Path, rows: int, seed: int) -> int:
    """Write ``rows`` valid records as a CSV with the items' Chinese headers; the file's size."""
    assert ID_SPACE % ID_STEP, "the step must be coprime with the id space"
    rnd = random.Random(seed)
    choice, randint = rnd.choice, rnd.randint
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(",".join(HEADER) + "\n")
        chunk: list[str] = []
        for i in range(rows):
            key, birth = person(i)
            name = choice(SURNAMES) + choice(GIVEN) + (choice(GIVEN) if rnd.random() < 0.6 else "")
            home = f"河南省焦作市{choice(DISTRICTS)}{choice(STREETS)}{randint(1, 999)}号"
            live = f"焦作市{choice(DISTRICTS)}{choice(STREETS)}{randint(1, 300)}号院{randint(1, 30)}号楼"
            phone = f"1{choice('3456789')}{randint(0, 999_999_999):09d}"
            sex = "1" if int(key[16]) % 2 else "2"
            chunk.append(f"{key},{name},{sex},{birth.isoformat()},{home},{phone},{live}")
            if len(chunk) == 50_000:
                out.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            out.write("\n".join(chunk) + "\n")
    return path.stat().st_size


# --- the store -------------------------------------------------------------------------------------------


@dataclass
class Built:
    """A store with the resource loaded; what the servers and the client need to know of it."""

    backend: str
    data_dir: str
    database_url: str
    store_url: str
    code: str
    token: str
    rows: int
    seed: int
    under_review: int = 0  # records with an objection under review
    version: int = BUILD_VERSION

    def env(self, **extra: str) -> dict[str, str]:
        """The server's environment (``govdata serve`` reads its settings from it)."""
        return {
            **os.environ,
            "GOVDATA_DATA_DIR": self.data_dir,
            "GOVDATA_DATABASE_URL": self.database_url,
            "GOVDATA_STORE_URL": self.store_url,
            "GOVDATA_SECRET_KEY": SECRET_KEY,
            "GOVDATA_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "GOVDATA_LOG_JSON": "false",
            "GOVDATA_LOG_LEVEL": "WARNING",
            "GOVDATA_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
            **extra,
        }


def _settings(data_dir: Path, database_url: str, store_url: str):
    from govdata.core.config import Settings

    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        store_url=store_url,
        admin_password=ADMIN_PASSWORD,
        secret_key=SECRET_KEY,
        log_json=False,
        log_level="WARNING",
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(8 * 1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def build(
    backend: str, workdir: Path, rows: int, seed: int, admin_url: str, under_review: float = 0.0
) -> Built:
    """Initialise the store, the demo region and the resource, and load ``rows`` records through a batch
    (a PostgreSQL database made for it is dropped again when that fails)."""
    from govdata.core.observability import configure_logging

    configure_logging("WARNING", json_logs=False)
    data_dir = workdir / "store"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if backend == "sqlite":
        database_url = f"sqlite:///{data_dir / 'govdata.sqlite3'}"
        store_url = f"duckdb:///{data_dir / 'data.duckdb'}"
    else:
        database_url = store_url = _create_database(admin_url)
    try:
        return _load(backend, workdir, data_dir, database_url, store_url, rows, seed, under_review)
    except BaseException:
        if backend == "postgresql":
            _drop_database(admin_url, database_url)
        raise


def _load(
    backend: str,
    workdir: Path,
    data_dir: Path,
    database_url: str,
    store_url: str,
    rows: int,
    seed: int,
    under_review: float = 0.0,
) -> Built:
    from govdata import capabilities
    from govdata.aggregation import service as aggregation
    from govdata.aggregation.models import Batch
    from govdata.bootstrap import initialise
    from govdata.catalog import service as catalog
    from govdata.catalog.cli import acting_user
    from govdata.catalog.schemas import ResourceIn
    from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
    from govdata.demo import REGION, create_demo
    from govdata.store import open_store

    settings = _settings(data_dir, database_url, store_url)
    with console.status("初始化存储与演示地区…"):
        initialise(settings, node_region=REGION)
        engine = make_engine(settings.resolved_database_url())
        factory = make_sessionmaker(engine)
        with unit_of_work(factory) as session:
            _, token = create_demo(session, with_catalog=False)
        with unit_of_work(factory) as session:
            officer = acting_user(session, "ga_officer")
            created, _ = catalog.create_resource(session, officer, ResourceIn.model_validate(resource_body()))
            code = created.code
            catalog.submit_resource(session, officer, code)
            catalog.publish_resource(session, acting_user(session, "dsj_officer"), code)
    source = workdir / f"population-{rows}-{seed}.csv"
    if not source.exists():
        started = time.perf_counter()
        size = generate(source, rows, seed)
        console.print(
            f"已生成 {rows:,} 行（{size / 2**20:.0f} MiB），用时 {time.perf_counter() - started:.1f} 秒"
        )
    spool = Path(tempfile.mkdtemp(dir=data_dir)) / "upload"
    try:
        os.link(source, spool)  # the API leaves the upload on disk like this
    except OSError:
        shutil.copyfile(source, spool)
    store = open_store(settings.resolved_store_url())
    store.initialise()
    started = time.perf_counter()
    with console.status(f"批次归集 {rows:,} 行…"):
        with unit_of_work(factory) as session:
            upload = aggregation.Upload(spool, source.name, _sha256(source))
            batch_id = aggregation.create_batch(
                session,
                acting_user(session, "ga_officer"),
                data_dir,
                code,
                mode="upsert",
                policy="accept_valid",
                upload=upload,
            ).id
        aggregation.run_batch(factory, store, data_dir, batch_id)
    with console.status("处理批次之后排队的事件（质量评分等）…"):
        # here rather than in the server's first minutes, where they would share the measurement
        capabilities.make_worker(settings, factory, store).drain()
    with unit_of_work(factory) as session:
        batch = session.get(Batch, batch_id)
        status, applied, message = batch.status, batch.rows_applied, batch.message
    reviewed = 0
    if under_review > 0 and status == "applied":
        started = time.perf_counter()
        with console.status(f"对 {under_review:.1%} 的记录提出疑义…"):
            reviewed = file_objections(factory, store, code, rows, under_review)
        console.print(f"{reviewed:,} 条记录复核中，用时 {time.perf_counter() - started:.1f} 秒")
    store.close()
    engine.dispose()
    if status != "applied" or applied != rows:
        raise SystemExit(f"批次未按预期入库：{status}，入库 {applied} 行：{message}")
    console.print(f"批次已入库 {applied:,} 行，用时 {time.perf_counter() - started:.1f} 秒")
    return Built(backend, str(data_dir), database_url, store_url, code, token, rows, seed, reviewed)


def reviewed_count(rows: int, share: float) -> int:
    """How many records ``file_objections`` objects to: every n-th, n = 1 / ``share``."""
    return 0 if share <= 0 else len(range(0, rows, max(1, round(1 / share))))


def file_objections(factory, store, code: str, rows: int, share: float) -> int:
    """市公安局's officer objects to every n-th record (``share`` of them), as the objections service
    files them; how many."""
    from govdata.catalog.cli import acting_user
    from govdata.core.db import unit_of_work
    from govdata.objections import service as objections
    from govdata.objections.schemas import ObjectionIn

    step = max(1, round(1 / share))
    made = 0
    with unit_of_work(factory) as session:
        officer = acting_user(session, "ga_officer")
        for i in range(0, rows, step):
            data = ObjectionIn(
                resource_code=code, key=person(i)[0], items={"lxdh": "13900000000"}, reason="联系电话已变更"
            )
            objections.file_objection(session, officer, store, data)
            made += 1
    return made


def _create_database(admin_url: str) -> str:
    name = f"govdata_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(admin_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_database(built: Built, admin_url: str) -> None:
    if built.backend == "postgresql":
        _drop_database(admin_url, built.database_url)


@contextmanager
def prepared(args: argparse.Namespace) -> Iterator[Built]:
    """The built store: made afresh, or — embedded, with ``--workdir`` — reused when a previous run
    there built it with the same ``--rows`` and ``--seed``. A PostgreSQL database is always made
    afresh and dropped at the end."""
    admin_url = os.environ.get("GOVDATA_TEST_POSTGRES_URL") or DEFAULT_POSTGRES
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="govdata-share-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    marker = workdir / "built.json"
    built = None
    if args.workdir and args.backend == "sqlite" and marker.exists():
        found = Built(**json.loads(marker.read_text()))
        same = ("sqlite", args.rows, args.seed, BUILD_VERSION)
        reviewed = reviewed_count(args.rows, getattr(args, "under_review", 0.0))
        if (found.backend, found.rows, found.seed, found.version) == same and found.under_review == reviewed:
            built = found
            console.print(f"沿用 {workdir} 中已建好的存储（{found.rows:,} 行）")
    try:
        if built is None:
            marker.unlink(missing_ok=True)
            share = getattr(args, "under_review", 0.0)
            built = build(args.backend, workdir, args.rows, args.seed, admin_url, share)
            if args.backend == "sqlite":
                marker.write_text(json.dumps(asdict(built), ensure_ascii=False))
        yield built
    finally:
        if built is not None:
            drop_database(built, admin_url)
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)


# --- servers --------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """A server in a subprocess, started and waited for; its CPU time and peak memory from /proc."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path, ready_path: str = "/healthz"):
        self.port = free_port()
        self.command = [c.replace("{port}", str(self.port)) for c in command]
        self.env, self.log, self.ready_path = env, log, ready_path
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    @classmethod
    def uvicorn(cls, target: str, env: dict[str, str], log: Path, *extra: str) -> Server:
        command = [sys.executable, "-m", "uvicorn", target, "--factory", "--port", "{port}", *UVICORN_OPTIONS]
        return cls([*command, *extra], env, log)

    def __enter__(self) -> Server:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit("服务未能启动：\n" + self.log.read_text(errors="replace")[-3000:])
            try:
                if httpx.get(self.url + self.ready_path, timeout=2).status_code < 500:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit("服务未能启动：\n" + self.log.read_text(errors="replace")[-3000:])

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (all its threads) so far."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def status_kib(self, name: str) -> int:
        """A ``/proc/<pid>/status`` figure in KiB (``VmHWM``: peak resident set size; ``VmRSS``: now)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(name + ":"):
                return int(line.split()[1])
        raise KeyError(name)


def ours(built: Built, log: Path) -> Server:
    return Server.uvicorn("govdata.app:create_app", built.env(), log)


def login(base_url: str, username: str) -> dict[str, str]:
    from govdata.demo import DEMO_PASSWORD

    response = httpx.post(
        f"{base_url}/api/v1/auth/token", data={"username": username, "password": DEMO_PASSWORD}, timeout=60
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def system_headers(built: Built) -> dict[str, str]:
    return {"Authorization": f"Bearer {built.token}", "X-End-User": quote(END_USER)}


def apply_for_grant(base_url: str, built: Built, items: list[str], modes: list[str]) -> dict:
    """市人社局's rs_user applies for ``items`` through ``modes`` for the demo system, asking for a rate
    limit of 1,000,000 a minute, and 市公安局's ga_officer approves it with that limit (a grant made at
    once for unconditional items keeps the default limit: nobody decided a higher one, so ``items``
    should name a conditional one). The application as the API answers."""
    me = httpx.get(f"{base_url}/api/v1/me", headers=system_headers(built), timeout=60)
    me.raise_for_status()
    today = dt.date.today()
    body = {
        "resource_code": built.code,
        "system_id": me.json()["system_id"],
        "items": items,
        "purpose": "养老保险待遇资格认证",
        "scenario": "退休人员每年资格认证时核验身份",
        "legal_basis": "《社会保险法》第七十五条",
        "period_start": today.isoformat(),
        "period_end": (today + dt.timedelta(days=365)).isoformat(),
        "modes": modes,
        "rate_limit": RATE_LIMIT,
    }
    response = httpx.post(
        f"{base_url}/api/v1/applications", json=body, headers=login(base_url, "rs_user"), timeout=60
    )
    if response.status_code != 201:
        raise SystemExit(f"申请未被受理：{response.status_code} {response.text}")
    application = response.json()
    if not application.get("grant_id"):
        decision = {"decision": "approve", "masked": [], "rate_limit": RATE_LIMIT}
        response = httpx.post(
            f"{base_url}/api/v1/applications/{application['id']}/decision",
            json=decision,
            headers=login(base_url, "ga_officer"),
            timeout=60,
        )
        if response.status_code != 200 or not response.json().get("grant_id"):
            raise SystemExit(f"提供部门未能批准申请：{response.status_code} {response.text}")
        application = response.json()
    grant = httpx.get(
        f"{base_url}/api/v1/grants/{application['grant_id']}", headers=login(base_url, "rs_user"), timeout=60
    )
    grant.raise_for_status()
    if grant.json()["rate_limit"] != RATE_LIMIT:
        raise SystemExit(f"授权的调用频率上限为 {grant.json()['rate_limit']}，应为 {RATE_LIMIT}")
    return application


def usage_total(base_url: str) -> int:
    """Calls in the usage log, as the authority sees it (the API writes what is queued first)."""
    response = httpx.get(
        f"{base_url}/api/v1/usage", params={"limit": 1}, headers=login(base_url, "dsj_officer"), timeout=120
    )
    response.raise_for_status()
    return response.json()["total"]


# --- the baseline and the canned server (run as subprocesses of this file) --------------------------------

BODY_ENV = "SHARE_BENCH_BODY"


def baseline_app():
    """A bare Starlette app: the same path, answering one of our answers with ``JSONResponse``."""
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    body = json.loads(Path(os.environ[BODY_ENV]).read_text(encoding="utf-8"))

    async def records(request):
        return JSONResponse(body)

    async def healthz(request):
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/api/v1/share/{code:path}/records", records), Route("/healthz", healthz)])


def canned_server(port: int, size: int) -> None:
    """A plain asyncio server answering every request on a connection with the same response."""
    response = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\n\r\n" % size
    ) + b"x" * size

    class Canned(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport, self.buffer = transport, b""

        def data_received(self, data):
            self.buffer += data
            count = self.buffer.count(b"\r\n\r\n")
            if count:
                self.buffer = self.buffer[self.buffer.rindex(b"\r\n\r\n") + 4 :]
                self.transport.write(response * count)

    async def main():
        server = await asyncio.get_running_loop().create_server(Canned, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def canned(log: Path, size: int) -> Server:
    server = Server(
        [sys.executable, str(Path(__file__)), "canned", "--port", "{port}", "--size", str(size)],
        {**os.environ},
        log,
    )
    server.ready_path = "/"
    return server


# --- the client --------------------------------------------------------------------------------------------


@dataclass
class Run:
    requests: int
    seconds: float
    latencies: list[float]  # seconds, per request
    client_cpu: float
    server_cpu: float | None = None

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered))) - 1)] * 1000


def request_bytes(port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def _drive(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    queue = iter(requests)
    failures: list[str] = []

    async def caller() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for raw in queue:
                started = time.perf_counter()
                writer.write(raw)
                head = await reader.readuntil(b"\r\n\r\n")
                status = head[9:12]
                lower = head.lower()
                at = lower.index(b"content-length:") + 15
                length = int(lower[at : lower.index(b"\r\n", at)])
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - started)
                if status != b"200":
                    failures.append(f"{status.decode()} {body[:300].decode(errors='replace')}")
                    return
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"有 {len(failures)} 个请求未得到 200：{failures[0]}")
    return seconds, latencies


def drive(
    server: Server, warmup: list[str], paths: list[str], headers: dict[str, str], concurrency: int
) -> Run:
    """The ``warmup`` paths, then the measured ``paths``, each once at ``concurrency``; timings, and the
    client's and the server's CPU seconds during the measured part."""
    if warmup:
        asyncio.run(
            _drive(server.port, [request_bytes(server.port, p, headers) for p in warmup], concurrency)
        )
    raws = [request_bytes(server.port, p, headers) for p in paths]
    cpu, server_cpu = time.process_time(), server.cpu_seconds()
    seconds, latencies = asyncio.run(_drive(server.port, raws, concurrency))
    return Run(len(raws), seconds, latencies, time.process_time() - cpu, server.cpu_seconds() - server_cpu)


def describe(label: str, run: Run) -> None:
    console.print(
        f"{label}：{run.rate:,.0f} 请求/秒，p50 {run.percentile(50):.1f} ms，p99 {run.percentile(99):.1f} ms"
        f"；客户端 CPU {run.client_cpu / run.requests * 1e6:.0f} µs/请求"
        + (
            f"，服务端 CPU {run.server_cpu / run.requests * 1e3:.2f} ms/请求"
            if run.server_cpu is not None
            else ""
        )
    )


# --- main --------------------------------------------------------------------------------------------


def common_arguments(parser: argparse.ArgumentParser, rows: int = 1_000_000) -> None:
    parser.add_argument("--rows", type=int, default=rows, help="population records loaded")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument(
        "--workdir",
        type=Path,
        help="work here and keep it (default: a temporary directory, removed); an embedded store built "
        "here before with the same --rows and --seed is reused",
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["canned"]:
        sub = argparse.ArgumentParser()
        sub.add_argument("--port", type=int, required=True)
        sub.add_argument("--size", type=int, required=True)
        options = sub.parse_args(argv[1:])
        canned_server(options.port, options.size)
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    common_arguments(parser)
    parser.add_argument(
        "--under-review",
        type=float,
        default=0.01,
        help="share of the records with an objection under review (COR-3; 0 for none)",
    )
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=500, help="calls before each measurement")
    args = parser.parse_args(argv)

    with prepared(args) as built:
        logs = Path(built.data_dir).parent
        rnd = random.Random(args.seed)
        total = args.warmup + args.requests
        keys = [person(rnd.randrange(built.rows))[0] for _ in range(total)]
        every = [f"/api/v1/share/{built.code}/records?key={k}" for k in keys]
        warm, paths = every[: args.warmup], every[args.warmup :]
        headers = system_headers(built)

        with ours(built, logs / "server.log") as server:
            application = apply_for_grant(server.url, built, LOOKUP_ITEMS, ["query"])
            console.print(
                f"已授权：申请 {application['id']}，授权 {application['grant_id']}，信息项 {LOOKUP_ITEMS}"
            )
            sample = httpx.get(server.url + every[0], headers=headers, timeout=60)
            sample.raise_for_status()
            answer = sample.json()
            assert answer["items"] and answer["items"][0]["gmsfhm"] == keys[0], sample.text
            size = len(sample.content)
            console.print(f"一次答复 {size} 字节：{sample.text[:160]}…")
            body_file = logs / "answer.json"
            body_file.write_bytes(sample.content)
            before = usage_total(server.url)

            with canned(logs / "canned.log", size) as bare:
                ceiling = drive(bare, warm, paths, headers, args.concurrency)
            describe("客户端上限（固定答复的 asyncio 服务）", ceiling)

            mine = drive(server, warm, paths, headers, args.concurrency)
            describe(f"ours（{args.backend}）", mine)
            logged = usage_total(server.url) - before

        env = {**os.environ, BODY_ENV: str(body_file)}
        with Server.uvicorn(
            "share_lookup:baseline_app", env, logs / "baseline.log", "--app-dir", str(HERE)
        ) as bare:
            check = httpx.get(bare.url + every[0], headers=headers, timeout=60)
            assert check.status_code == 200 and len(check.content) == size, (
                check.status_code,
                len(check.content),
            )
            theirs = drive(bare, warm, paths, headers, args.concurrency)
        describe("baseline（Starlette 固定 JSON）", theirs)
        console.print(f"使用记录新增 {logged:,} 条（应为 {total:,}）")

        result = {
            "name": "share_lookup",
            "requests": args.requests,
            "ours": round(mine.rate, 1),
            "baseline": round(theirs.rate, 1),
            "baseline_name": f"bare Starlette JSONResponse of the same {size}-byte body (uvicorn h11, 1 worker)",
            "ratio": round(mine.rate / theirs.rate, 3),
            "unit": "requests/s",
            "ours_p50": round(mine.percentile(50), 2),
            "ours_p99": round(mine.percentile(99), 2),
            "baseline_p50": round(theirs.percentile(50), 2),
            "baseline_p99": round(theirs.percentile(99), 2),
            "client_ceiling": round(ceiling.rate, 1),
            "ours_server_cpu_ms": round(mine.server_cpu / mine.requests * 1000, 3),
            "baseline_server_cpu_ms": round(theirs.server_cpu / theirs.requests * 1000, 3),
            "backend": args.backend,
            "rows": built.rows,
            "under_review_keys": built.under_review,
            "concurrency": args.concurrency,
            "body_bytes": size,
            "usage_logged": logged,
            "load_1m": round(os.getloadavg()[0], 2),
        }
        print(json.dumps(result, ensure_ascii=False), flush=True)
        return 0 if logged == total else 1


if __name__ == "__main__":
    sys.exit(main())
