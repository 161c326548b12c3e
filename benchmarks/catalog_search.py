"""Benchmark: catalog search (CAT-11) with the bigram index vs a plain ``LIKE '%word%'`` scan.

Builds a fresh store (``govdata.bootstrap.initialise`` + the demo departments) in a temporary
directory — or, with ``--backend postgresql``, in a throwaway database that is dropped afterwards —
and bulk-inserts ``--rows`` realistic resources (names and summaries combined from the words
departments actually use: 人口, 户籍, 社保, 企业, 营业执照, 不动产, 公积金 …) into
``catalog_resources`` and the search index in one transaction. The index text is made by
``govdata.catalog.search.index_text``, so it is the very index the product uses.

Then a fixed list of about 200 queries (two-character words, longer phrases, item codes, two terms,
each once without and once with one filter) is run, after one warm-up pass, for

* ours: ``govdata.catalog.search.search`` as the authority (sees everything), limit 20, relevance
  order, total and all eight facets included;
* baseline: ``name LIKE '%w%' OR summary LIKE '%w%'`` for every term, the same filters and limit,
  newest first, plus a ``count(*)`` for the total — no facets and no relevance order (they would
  only make the baseline slower).

Prints one JSON line (p95 latency in ms; p50 alongside) to stdout; progress and details go to
stderr.

    .venv/bin/python benchmarks/catalog_search.py --rows 100000
    .venv/bin/python benchmarks/catalog_search.py --rows 100000 --backend postgresql
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psycopg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import and_, func, insert, or_, select, text
from sqlalchemy.orm import Session

from govdata.bootstrap import initialise
from govdata.catalog import search
from govdata.catalog.models import Resource
from govdata.catalog.search import index as search_index
from govdata.core.auth import Actor, Role
from govdata.core.config import Settings
from govdata.core.db import make_engine, make_sessionmaker, unit_of_work
from govdata.demo import REGION, create_demo
from govdata.orgs.models import Department

console = Console(stderr=True)
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"

# subject words by department code (demo region): (subject, classification)
SUBJECTS: dict[str, list[tuple[str, str]]] = {
    "001": [("电子证照", "105"), ("政务服务事项", "201"), ("信用", "104"), ("政务数据目录", "3")],
    "002": [
        ("人口", "101"),
        ("户籍", "101"),
        ("流动人口", "101"),
        ("居民身份证", "105"),
        ("出入境证件", "105"),
        ("机动车", "3"),
        ("驾驶证", "105"),
        ("治安处罚", "212"),
    ],
    "003": [
        ("企业", "102"),
        ("营业执照", "105"),
        ("个体工商户", "102"),
        ("食品经营许可", "204"),
        ("特种设备", "205"),
        ("行政处罚", "208"),
        ("市场主体", "102"),
        ("商标", "3"),
    ],
    "004": [
        ("社保", "203"),
        ("养老保险", "203"),
        ("失业保险", "203"),
        ("工伤保险", "203"),
        ("就业", "201"),
        ("职业资格", "105"),
        ("劳动用工", "3"),
    ],
    "005": [("婚姻登记", "101"), ("低保", "203"), ("社会组织", "102"), ("养老机构", "210"), ("殡葬", "201")],
    "006": [
        ("出生医学证明", "101"),
        ("医疗机构", "202"),
        ("执业医师", "202"),
        ("预防接种", "202"),
        ("死亡医学证明", "101"),
    ],
    "007": [("不动产", "103"), ("土地", "103"), ("规划许可", "209"), ("地理信息", "103")],
    "008": [("房屋", "209"), ("建筑企业资质", "102"), ("商品房预售", "209"), ("物业", "210")],
    "009": [("学籍", "201"), ("学校", "201"), ("教师资格", "105"), ("招生", "201")],
    "010": [("医保", "202"), ("医保定点机构", "202"), ("医保结算", "202"), ("医保参保", "203")],
    "011": [("公积金", "203"), ("公积金缴存", "203"), ("公积金贷款", "203")],
    "012": [("排污许可", "211"), ("环境监测", "211"), ("环境处罚", "211")],
    "013": [("道路运输", "3"), ("出租车", "201"), ("公交", "201"), ("网约车", "3")],
    "014": [("人口", "101"), ("户籍", "101"), ("治安处罚", "212")],
}
SUFFIXES = [
    "基础信息",
    "登记信息",
    "台账",
    "名录",
    "统计",
    "明细",
    "变更信息",
    "注销信息",
    "年度报告",
    "办理信息",
    "核验信息",
    "汇总表",
    "档案",
    "清单",
]
INSURED = {"社保", "养老保险", "失业保险", "工伤保险", "医保", "公积金"}  # these also get 参保信息
QUALIFIERS = ["", "", "", "全市", "年度", "月度", "解放区", "山阳区", "中站区", "修武县", "武陟县", "沁阳市"]
PURPOSES = [
    "社会保障待遇资格认证",
    "政务服务一网通办",
    "市场主体监管",
    "公共卫生服务",
    "城市精细化管理",
    "信用体系建设",
    "统计分析和决策",
    "应急管理",
    "不动产登记业务办理",
    "社保待遇发放核验",
]
CYCLES = {
    "realtime": "实时",
    "daily": "每日",
    "weekly": "每周",
    "monthly": "每月",
    "quarterly": "每季度",
    "yearly": "每年",
}
ITEMS = {
    "gmsfhm": ("公民身份号码", "公民身份号码"),
    "xm": ("姓名", "姓名"),
    "xb": ("性别", "性别"),
    "mz": ("民族", "民族"),
    "csrq": ("出生日期", "出生日期"),
    "hjdz": ("户籍地址", "户籍地址"),
    "jzdz": ("居住地址", None),
    "lxdh": ("联系电话", None),
    "tyshxydm": ("统一社会信用代码", "统一社会信用代码"),
    "dwmc": ("单位名称", "单位名称"),
    "fddbr": ("法定代表人", "法定代表人"),
    "clrq": ("成立日期", "成立日期"),
    "zczb": ("注册资本", None),
    "jyfw": ("经营范围", None),
    "djjg": ("登记机关", None),
    "cbzt": ("参保状态", None),
    "cbrq": ("参保日期", None),
    "jfjs": ("缴费基数", None),
    "bdcqzh": ("不动产权证号", None),
    "zl": ("坐落", None),
    "mj": ("面积", None),
    "xjzt": ("学籍状态", None),
    "xxmc": ("学校名称", None),
    "djrq": ("登记日期", None),
    "hyzk": ("婚姻状况", None),
    "gjjzh": ("公积金账号", None),
    "jcje": ("缴存金额", None),
    "hphm": ("号牌号码", None),
    "jcsj": ("监测时间", None),
    "blsj": ("办理时间", None),
}
PERSON = ["gmsfhm", "xm", "xb", "csrq", "lxdh", "blsj"]
LEGAL = ["tyshxydm", "dwmc", "fddbr", "djjg", "blsj"]
# the items a department's resources are made of
DEPARTMENT_ITEMS = {
    "001": PERSON + LEGAL,
    "002": PERSON + ["mz", "hjdz", "jzdz", "hyzk"],
    "003": LEGAL + ["clrq", "zczb", "jyfw", "djrq"],
    "004": PERSON + ["dwmc", "cbzt", "cbrq", "jfjs"],
    "005": PERSON + ["hyzk", "djrq", "jzdz"],
    "006": PERSON + ["dwmc", "tyshxydm", "djrq"],
    "007": ["bdcqzh", "zl", "mj", "djrq", "gmsfhm", "xm", "tyshxydm"],
    "008": ["bdcqzh", "zl", "mj", "tyshxydm", "dwmc", "djrq"],
    "009": PERSON + ["xjzt", "xxmc", "hjdz"],
    "010": PERSON + ["dwmc", "cbzt", "jfjs"],
    "011": PERSON + ["gjjzh", "jcje", "dwmc"],
    "012": LEGAL + ["jcsj", "zl"],
    "013": LEGAL + ["hphm", "xm"],
    "014": PERSON + ["mz", "hjdz", "jzdz"],
}
STATUSES = ["published"] * 85 + ["draft"] * 5 + ["submitted"] * 3 + ["returned"] * 2 + ["retired"] * 5
FORMATS = ["database", "database", "database", "spreadsheet", "file", "service", "streaming", "image"]
GRADES = ["general", "general", "important", "core"]

QUERY_WORDS = [
    # two-character words
    "人口",
    "户籍",
    "社保",
    "医保",
    "企业",
    "学籍",
    "婚姻",
    "养老",
    "失业",
    "工伤",
    "就业",
    "低保",
    "土地",
    "房屋",
    "学校",
    "医疗",
    "出生",
    "死亡",
    "信用",
    "证照",
    "许可",
    "处罚",
    "监测",
    "公交",
    "物业",
    "教师",
    "招生",
    "商标",
    "殡葬",
    "车辆",
    "台账",
    "名录",
    "统计",
    "核验",
    "年度",
    "全市",
    "山阳",
    "修武",
    "地址",
    "姓名",
    # longer words and phrases
    "公积金",
    "不动产",
    "营业执照",
    "人口基础信息",
    "企业登记信息",
    "社保参保信息",
    "婚姻登记信息",
    "学籍信息",
    "医保结算",
    "养老保险",
    "居民身份证",
    "食品经营许可",
    "统一社会信用代码",
    "公民身份号码",
    "户籍人口统计",
    "不动产登记",
    "公积金缴存",
    "流动人口",
    "医疗机构名录",
    "出租车台账",
    "特种设备",
    "环境监测",
    "政务服务",
    "一网通办",
    "待遇资格认证",
    "市场主体监管",
    "预防接种",
    "执业医师",
    "网约车",
    "电子证照",
    "出入境",
    "驾驶证",
    "个体工商户",
    "行政处罚",
    "规划许可",
    "排污许可",
    "道路运输",
    "商品房",
    "医保定点",
    "社会组织",
    # item codes and code parts
    "tyshxydm",
    "gmsfhm",
    "cbzt",
    "bdcqzh",
    "002500017",
    "101",
    # two terms (AND)
    "人口 户籍",
    "企业 名录",
    "社保 台账",
    "医保 统计",
    "公积金 贷款",
    "学校 学籍",
    "山阳区 人口",
    "营业执照 注销",
    "不动产 登记",
    "养老 核验",
    "低保 台账",
    "户籍 变更",
    "企业 注销",
    "学籍 核验",
]


def filters_for(index: int, departments: dict[str, int]) -> dict:
    kinds = [
        {"share_type": "conditional"},
        {"provider_id": departments["002"]},
        {"classification": "1"},
        {"status": "published"},
        {"open_type": "unconditional"},
        {"classification": "203"},
        {"provider_id": departments["004"]},
        {"grade": "general"},
    ]
    return kinds[index % len(kinds)]


def build_queries(departments: dict[str, int]) -> list[dict]:
    queries = [{"q": word} for word in QUERY_WORDS]
    queries += [{"q": word, **filters_for(i, departments)} for i, word in enumerate(QUERY_WORDS)]
    return queries


def generate(rows: int, departments: dict[str, Department], first_id: int, seed: int):
    """Yield (resource row, index row) pairs."""
    rnd = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    sequences: dict[str, int] = {}
    codes = list(SUBJECTS)
    for n in range(rows):
        dept_code = rnd.choice(codes)
        dept = departments[dept_code]
        subject, classification = rnd.choice(SUBJECTS[dept_code])
        if classification != "3" and rnd.random() < 0.3:
            classification += f"{rnd.randint(1, 9):02d}"
        suffixes = SUFFIXES + ["参保信息"] * 3 if subject in INSURED else SUFFIXES
        name = rnd.choice(QUALIFIERS) + subject + rnd.choice(suffixes)
        other_dept = rnd.choice(codes)
        other, _ = rnd.choice(SUBJECTS[other_dept])
        pool = DEPARTMENT_ITEMS[dept_code]
        items = [(c, *ITEMS[c]) for c in rnd.sample(pool, rnd.randint(3, min(8, len(pool))))]
        cycle = rnd.choice(list(CYCLES))
        summary = (
            f"{dept.short_name}归集的{rnd.choice(QUALIFIERS)}{subject}{rnd.choice(SUFFIXES)}，"
            f"包括{items[0][1]}、{items[1][1]}等信息项，{CYCLES[cycle]}更新，"
            f"用于{rnd.choice(PURPOSES)}，可与{other}相关数据比对。"
        )
        # sequences from 500000 on: the demo's own resources hold the low numbers
        key = classification + dept_code
        sequence = sequences[key] = sequences.get(key, 500_000) + 1
        code = f"{classification}/{dept_code}{sequence:06d}"
        status = rnd.choice(STATUSES)
        share = rnd.choice(["unconditional", "conditional", "conditional", "none"])
        opened = rnd.choice(["unconditional", "conditional", "none", "none"]) if share != "none" else "none"
        updated = now - timedelta(minutes=rnd.randint(0, 3 * 365 * 24 * 60))
        published = status in ("published", "retired")
        resource_id = first_id + n
        row = {
            "id": resource_id,
            "code": code,
            "provider_id": dept.id,
            "status": status,
            "version": 1,
            "published_version": 1 if published else None,
            "name": name,
            "summary": summary,
            "classification": classification,
            "format": rnd.choice(FORMATS),
            "share_type": share,
            "open_type": opened,
            "update_cycle": cycle,
            "grade": rnd.choice(GRADES),
            "created_at": updated - timedelta(days=rnd.randint(0, 400)),
            "updated_at": updated,
            "published_at": updated if published else None,
        }
        body = {
            "name": name,
            "summary": summary,
            "items": [{"code": c, "name": label, "element": element} for c, label, element in items],
        }
        document = search.index_text(SimpleNamespace(code=code, provider=dept), body)
        yield row, (resource_id, document)


def load(session: Session, rows: int, seed: int) -> None:
    departments = {d.code: d for d in session.scalars(select(Department))}
    first_id = (session.scalar(select(func.max(Resource.id))) or 0) + 1
    sqlite = session.get_bind().dialect.name == "sqlite"
    chunk = 5_000
    with Progress(
        TextColumn("[bold]生成并写入资源"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task("rows", total=rows)
        resources, documents = [], []
        for row, document in generate(rows, departments, first_id, seed):
            resources.append(row)
            documents.append(document)
            if len(resources) == chunk:
                session.execute(insert(Resource.__table__), resources)
                search_index.write(session, documents)
                progress.advance(task, len(resources))
                resources, documents = [], []
        if resources:
            session.execute(insert(Resource.__table__), resources)
            search_index.write(session, documents)
            progress.advance(task, len(resources))
    if not sqlite:
        session.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('catalog_resources', 'id'), max(id)) FROM catalog_resources"
            )
        )


def baseline(session: Session, query: dict, limit: int) -> tuple[list[Resource], int]:
    """What a catalog without a search index does: LIKE every term over name and summary."""
    clauses = []
    for word in query["q"].split():
        clauses.append(
            or_(
                Resource.name.contains(word, autoescape=True),
                Resource.summary.contains(word, autoescape=True),
            )
        )
    if query.get("status"):
        clauses.append(Resource.status == query["status"])
    else:
        clauses.append(Resource.status != "retired")
    for name in ("provider_id", "share_type", "open_type", "grade"):
        if query.get(name) is not None:
            clauses.append(getattr(Resource, name) == query[name])
    if query.get("classification"):
        clauses.append(Resource.classification.startswith(query["classification"], autoescape=True))
    where = and_(*clauses)
    total = session.scalar(select(func.count()).select_from(Resource).where(where)) or 0
    items = list(
        session.scalars(
            select(Resource)
            .where(where)
            .order_by(Resource.updated_at.desc(), Resource.id.desc())
            .limit(limit)
        )
    )
    return items, total


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(session: Session, queries: list[dict], run, passes: int) -> list[float]:
    for query in queries:  # warm-up: caches and statement compilation
        run(query)
        session.expunge_all()
    times = []
    for _ in range(passes):
        for query in queries:
            start = time.perf_counter()
            run(query)
            times.append((time.perf_counter() - start) * 1000)
            session.expunge_all()
    return times


def settings_for(backend: str, workdir: Path, admin_url: str) -> tuple[Settings, str | None]:
    common = {
        "admin_password": "Bench@Search-2026",
        "secret_key": "bench",
        "log_json": False,
        "log_level": "WARNING",
    }
    if backend == "sqlite":
        db = f"sqlite:///{workdir / 'govdata.sqlite3'}"
        return Settings(
            data_dir=workdir, database_url=db, store_url=f"duckdb:///{workdir / 'data.duckdb'}", **common
        ), None
    name = f"govdata_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    return Settings(data_dir=workdir, database_url=url, store_url=url, **common), name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--passes", type=int, default=1, help="measured passes over the query list")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument(
        "--queries", type=int, help="measure an evenly spaced sample of N queries of the list"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        help="SQLite: build the store in this directory and keep it (reused when it exists)",
    )
    args = parser.parse_args(argv)
    admin_url = os.environ.get("GOVDATA_TEST_POSTGRES_URL") or DEFAULT_POSTGRES

    if args.keep and args.backend == "sqlite":
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, settings_for("sqlite", args.keep.resolve(), admin_url)[0])
    with tempfile.TemporaryDirectory(prefix="govdata-bench-") as tmp:
        settings, database = settings_for(args.backend, Path(tmp), admin_url)
        try:
            return run(args, settings)
        finally:
            if database:
                with psycopg.connect(admin_url, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def run(args, settings: Settings) -> int:
    reuse = args.keep is not None and (args.keep / "govdata.sqlite3").exists()
    engine = None
    try:
        if reuse:
            console.print(f"沿用 {args.keep} 中已生成的库")
            engine = make_engine(settings.resolved_database_url())
            factory = make_sessionmaker(engine)
            with factory() as session:
                args.rows = session.scalar(select(func.count()).select_from(Resource))
        else:
            console.print(f"初始化 {args.backend} 库 …")
            initialise(settings, node_region=REGION)
            engine = make_engine(settings.resolved_database_url())
            factory = make_sessionmaker(engine)
            with unit_of_work(factory) as session:
                create_demo(session, with_catalog=False)
                demo_rows = session.scalar(select(func.count()).select_from(Resource)) or 0
            start = time.perf_counter()
            with unit_of_work(factory) as session:
                load(session, args.rows, args.seed)
            console.print(f"写入 {args.rows:,} 条资源和索引：{time.perf_counter() - start:.1f} s")
            args.rows += demo_rows
            # statistics, and on PostgreSQL the GIN index's pending list merged (as autovacuum would)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE" if args.backend == "sqlite" else "VACUUM ANALYZE"))

        with factory() as session:
            departments = {d.code: d.id for d in session.scalars(select(Department))}
            authority = next(d for d in session.scalars(select(Department)) if d.is_authority)
            actor = Actor(
                kind="user",
                roles=frozenset({Role.authority}),
                username="dsj_officer",
                department_id=authority.id,
            )
            queries = build_queries(departments)
            if args.queries:
                queries = queries[:: -(-len(queries) // args.queries)]

            def ours(query: dict):
                return search.search(session, actor, search.SearchQuery(limit=args.limit, **query))

            def theirs(query: dict):
                return baseline(session, query, args.limit)

            for query in (
                {"q": "人口"},
                {"q": "社保 台账"},
                {"q": "企业", "provider_id": departments["003"]},
            ):
                found, (_, total) = ours(query), theirs(query)
                console.print(f"{query}: ours total {found.total}, LIKE total {total}")
            console.print(f"{len(queries)} queries × {args.passes} pass(es) …")
            our_times = measure(session, queries, ours, args.passes)
            base_times = measure(session, queries, theirs, args.passes)
            slowest = sorted(zip(our_times, queries * args.passes, strict=True), key=lambda t: -t[0])[:5]
            for ms, query in slowest:
                console.print(f"  slowest ours: {ms:7.1f} ms {query}")
    finally:
        if engine is not None:
            engine.dispose()

    ours_p95, base_p95 = percentile(our_times, 0.95), percentile(base_times, 0.95)
    label = "SQLite" if args.backend == "sqlite" else "PostgreSQL"
    result = {
        "name": "catalog_search",
        "rows": args.rows,
        "ours": round(ours_p95, 2),
        "baseline": round(base_p95, 2),
        "baseline_name": f"SQL LIKE scan over name and summary ({label})",
        "ratio": round(base_p95 / ours_p95, 2),
        "unit": "ms p95 (lower is better)",
        "ours_p50": round(statistics.median(our_times), 2),
        "baseline_p50": round(statistics.median(base_times), 2),
        "backend": args.backend,
        "queries": len(our_times),
        # other work on the machine moves these figures: the 1-minute load average at the end
        "load_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
