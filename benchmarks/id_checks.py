"""Benchmark: bulk 公民身份号码 validation in DuckDB vs python-stdnum per row.

Generates ``--rows`` ids (about 1% defective) into a CSV in a temporary directory, then measures

* ours: ``SELECT count(*) FILTER (WHERE NOT <ric_valid_sql>) FROM read_csv(...)`` (CSV parsing
  included; best of ``--repeat`` runs after one warm-up run; DuckDB's default thread count);
* baseline: ``stdnum.cn.ric.is_valid`` called per value on the first ``--baseline-rows`` values,
  already in a Python list (no file reading), extrapolated as rows/s.

Both must find the same invalid rows in that slice. stdnum also checks the region code against its
history table, so the ids use real region codes that exist for every birth year used (1990-2020),
and the defects are check-digit, date and length errors that both implementations reject.

Prints one JSON line to stdout; details go to stderr.

    .venv/bin/python benchmarks/id_checks.py --rows 200000
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pyarrow as pa
from stdnum.cn import ric as stdnum_ric

from govdata.core.ids import ric_check_digit, ric_valid_sql

# Region codes that python-stdnum's table knows for every year from 1990 to 2020.
REGIONS = ("110101", "110102", "110105", "110108", "120101", "310101", "310104", "320102", "330106", "410802")
BIRTH_FIRST = datetime.date(1990, 1, 1).toordinal()
BIRTH_LAST = datetime.date(2020, 12, 31).toordinal()


def generate(rows: int, defect_rate: float, seed: int) -> tuple[list[str], int]:
    """Return (ids, number of defective ids)."""
    rnd = random.Random(seed)
    values: list[str] = []
    defects = 0
    for _ in range(rows):
        birth = datetime.date.fromordinal(rnd.randint(BIRTH_FIRST, BIRTH_LAST)).strftime("%Y%m%d")
        first17 = rnd.choice(REGIONS) + birth + f"{rnd.randint(0, 999):03d}"
        check = ric_check_digit(first17)
        value = first17 + (check.lower() if check == "X" and rnd.random() < 0.1 else check)
        if rnd.random() < defect_rate:
            defects += 1
            kind = rnd.random()
            if kind < 0.7:  # wrong check digit
                value = first17 + rnd.choice([c for c in "0123456789X" if c != check])
            elif kind < 0.85:  # impossible date (check digit computed over it)
                bad = first17[:10] + rnd.choice(["0230", "1301", "0001", "0432"]) + first17[14:]
                value = bad + ric_check_digit(bad)
            else:  # truncated
                value = value[: rnd.randint(1, 17)]
        values.append(value)
    return values, defects


def best_time(func, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=100_000)
    parser.add_argument("--defect-rate", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=11643)
    args = parser.parse_args(argv)

    values, defects = generate(args.rows, args.defect_rate, args.seed)
    sample = values[: min(args.rows, args.baseline_rows)]
    con = duckdb.connect()
    expression = ric_valid_sql("id")

    with tempfile.TemporaryDirectory(prefix="govdata-bench-") as tmp:
        path = Path(tmp) / "ids.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id"])
            writer.writerows([v] for v in values)

        query = (
            f"SELECT count(*) FILTER (WHERE NOT {expression})"
            f" FROM read_csv('{path}', header = true, columns = {{'id': 'VARCHAR'}})"
        )
        invalid_all = con.execute(query).fetchone()[0]  # warm-up
        ours_s = best_time(lambda: con.execute(query).fetchone(), args.repeat)

    if invalid_all != defects:
        print(f"error: SQL found {invalid_all} invalid ids, {defects} were generated", file=sys.stderr)
        return 1

    # Same rows, same expression, row by row: which ids in the slice are invalid?
    cursor = con.cursor()
    cursor.register("sample", pa.table({"i": pa.array(range(len(sample))), "id": pa.array(sample)}))
    ours_invalid = {i for (i,) in cursor.execute(f"SELECT i FROM sample WHERE NOT {expression}").fetchall()}

    stdnum_ric.is_valid(sample[0])  # load stdnum's region table outside the timing
    baseline_invalid: list[int] = []

    def run_baseline() -> None:
        is_valid = stdnum_ric.is_valid
        baseline_invalid[:] = [i for i, v in enumerate(sample) if not is_valid(v)]

    baseline_s = best_time(run_baseline, 1)
    if len(ours_invalid) != len(baseline_invalid) or ours_invalid != set(baseline_invalid):
        print(
            f"error: on the {len(sample)}-row slice ours found {len(ours_invalid)} invalid ids,"
            f" python-stdnum {len(baseline_invalid)}",
            file=sys.stderr,
        )
        return 1

    ours = args.rows / ours_s
    baseline = len(sample) / baseline_s
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(
        f"rows={args.rows} invalid={invalid_all} slice={len(sample)} slice_invalid={len(ours_invalid)}"
        f" ours={ours_s:.3f}s (duckdb threads={threads}) baseline={baseline_s:.3f}s",
        file=sys.stderr,
    )
    result = {
        "name": "ric_check",
        "rows": args.rows,
        "ours": round(ours),
        "baseline": round(baseline),
        "baseline_name": "python-stdnum ric.is_valid per row",
        "ratio": round(ours / baseline, 2),
        "unit": "rows/s",
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
