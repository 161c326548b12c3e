"""The k-anonymity report (OPN-5), counted in SQL by the store, against an independent reference: the
records de-identified in Python (the served values) and grouped by Arrow's own hash aggregation.

pycanon, the reference the issue names, cannot be installed beside this project (every release pins
an older ``typer`` than the CLI's), so the reference is pyarrow's ``Table.group_by`` instead."""

from __future__ import annotations

from collections import Counter

import pyarrow as pa

from govdata.opening import service
from govdata.opening.service import deid
from tests.support.catalog import publish
from tests.support.opening import OFFICER, checkup_records, checkups, prepare
from tests.support.sharing import load

PLAN = {
    "nl": {"method": "generalise", "generalise": "age_band"},
    "csrq": "generalise",
    "xm": "mask",
    "sfzh": "mask",
    "xzqh": {"method": "generalise", "generalise": "region_city"},
}
CASES = [
    ["xzqh", "jg"],
    ["nl", "jg"],
    ["csrq"],
    ["xm"],
    ["nl", "xm", "jg"],
    ["sfzh"],
    ["bh"],
]


def _reference(records: list[dict], quasi: list[str], rules: dict, k: int) -> dict:
    """Group sizes of the served values, by Arrow's group_by over the Python-de-identified rows."""
    codes = list(rules)
    served = deid.transform_rows(records, codes, rules, b"k" * 32)
    table = pa.table({c: pa.array([str(r[c]) if r[c] is not None else None for r in served]) for c in quasi})
    sizes = table.group_by(quasi).aggregate([([], "count_all")]).column("count_all").to_pylist()
    below = Counter(s for s in sizes if s < k)
    return {
        "rows": len(records),
        "groups": len(sizes),
        "smallest": min(sizes),
        "below": tuple(sorted((s, n, s * n) for s, n in below.items())),
    }


def test_report_agrees_with_the_reference(client, as_user, session, app):
    code = publish(client, as_user, OFFICER, checkups())
    records = checkup_records(120)
    load(client, as_user(OFFICER), code, records)
    prepare(client, as_user, code, plan=PLAN)
    actor_session = session
    from govdata.orgs import service as orgs

    officer = orgs.actor_named(actor_session, OFFICER)
    found = service.get_opening(session, officer, code)
    from govdata.opening.service import catalog as opening

    rules = opening.rules_of(session, found.ref, found.plan)
    for quasi in CASES:
        report = service.k_report(session, officer, app.state.store, code, quasi, k=5)
        expected = _reference(records, quasi, {c: rules[c] for c in rules if c != "zd"}, 5)
        got = {
            "rows": report.rows,
            "groups": report.groups,
            "smallest": report.smallest,
            "below": report.below,
        }
        assert got == expected, quasi
        assert report.passed == (expected["smallest"] >= 5)

    # a suppressed quasi-identifier is not served, so it is left out of the count
    left = service.k_report(session, officer, app.state.store, code, ["zd", "jg"], k=5)
    assert left.quasi == ("jg",) and left.left_out == ("zd",) and left.groups == 3
