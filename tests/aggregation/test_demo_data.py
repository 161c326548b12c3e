"""The demo's data (#13 items 15, 17, 18): after the demo catalog, `govdata demo` loads batches so that a
record has a history, a batch's errors file has rows, and the region-wide view has something failing."""

from __future__ import annotations

from govdata.aggregation import records, service
from govdata.aggregation.demo import create_demo_data
from govdata.catalog import service as catalog
from govdata.catalog.demo import create_demo_catalog
from govdata.core.db import make_sessionmaker
from govdata.orgs import service as orgs
from govdata.store import open_store


def test_the_demo_loads_data_with_history_and_a_rejected_batch(settings, engine, session):
    create_demo_catalog(session)
    session.commit()
    store = open_store(settings.resolved_store_url())
    try:
        store.initialise()
        assert create_demo_data(make_sessionmaker(engine), store, settings.data_dir) == 4
        officer = orgs.actor_named(session, "ga_officer")
        people = next(
            r
            for r in catalog.published_resources(session, provider_id=officer.department_id)
            if r.name == "人口基础信息"
        )
        page = records.browse(session, officer, store, people.code, limit=100)
        assert page["total"] == 39  # forty people, one deleted
        corrected = next(r for r in page["rows"] if r["values"]["hjdz"] == "焦作市山阳区人民路88号")
        found = records.history(session, officer, store, people.code, corrected["key"])
        assert [v.state for v in found["versions"]] == ["current", "superseded"]

        firms_officer = orgs.actor_named(session, "scjg_officer")
        firms = next(
            r
            for r in catalog.published_resources(session, provider_id=firms_officer.department_id)
            if r.name == "企业登记信息"
        )
        batches, _ = service.list_batches(session, firms_officer, firms.code, limit=10, offset=0)
        assert [b.status for b in batches] == ["rejected", "applied"]
        errors = service.batch_errors(session, firms_officer, settings.data_dir, batches[0].id)
        assert {e["rule"] for e in errors} == {"uscc", "required"} and all(e["line"] for e in errors)
    finally:
        store.close()
