"""The search's facet columns live in memory, one cache per engine: these tests change the catalog
behind a cache's back, the way other requests, other processes and rolled-back transactions do, and
check that every search still answers from what the database holds, as the asking session sees it."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select, update

from govdata.catalog import auth, search
from govdata.catalog.demo import create_demo_catalog
from govdata.catalog.models import Resource
from govdata.core.auth import Actor, Role
from govdata.core.db import make_sessionmaker
from tests.catalog.test_access import demo_actors

AUTHORITY = Actor(kind="user", roles=frozenset({Role.authority}), username="dsj_officer", department_id=1)
EVERYTHING = search.SearchQuery(limit=10_000)


def statuses(session) -> Counter:
    """The status facet of the authority's search, which sees every resource but the retired."""
    return Counter(search.search(session, AUTHORITY, search.SearchQuery(limit=1)).facets["status"])


def by_sql(session) -> Counter:
    stmt = select(Resource.status, func.count()).where(Resource.status != "retired").group_by(Resource.status)
    return Counter(dict(session.execute(stmt).all()))


def test_every_actor_finds_exactly_what_the_sql_rule_lets_it_read(session):
    create_demo_catalog(session)
    session.commit()
    for name, actor in demo_actors(session).items():
        stmt = select(Resource.id).where(Resource.status != "retired")
        if (clause := auth.readable(actor)) is not None:
            stmt = stmt.where(clause)
        found = search.search(session, actor, EVERYTHING)
        assert {r.id for r in found.items} == set(session.scalars(stmt)), name
        assert found.total == len(found.items)


def test_a_change_committed_elsewhere_shows_in_the_next_search(engine, session):
    create_demo_catalog(session)
    session.commit()
    before = statuses(session)
    assert before == by_sql(session)
    session.commit()  # a new transaction, as a new request would have

    with make_sessionmaker(engine)() as other:  # another request, or another process
        drafts = other.scalars(select(Resource.id).where(Resource.status == "draft")).all()
        other.execute(update(Resource).where(Resource.id.in_(drafts)).values(status="published"))
        other.commit()
    after = statuses(session)
    assert after == by_sql(session) != before
    assert "draft" not in after


def test_a_sessions_own_uncommitted_change_shows_to_it_alone_and_leaves_with_a_rollback(engine, session):
    create_demo_catalog(session)
    session.commit()
    before = statuses(session)
    session.commit()

    session.execute(update(Resource).where(Resource.status == "submitted").values(status="draft"))
    assert statuses(session) == by_sql(session) != before  # the session sees its own change
    with make_sessionmaker(engine)() as other:
        assert statuses(other) == before  # nobody else does
    session.rollback()
    assert statuses(session) == before  # and once rolled back, it never happened
    with make_sessionmaker(engine)() as other:
        assert statuses(other) == before


@pytest.mark.parametrize("backend", ["postgresql"])  # SQLite lets one transaction write at a time
def test_transactions_that_commit_out_of_order_are_all_seen(engine, session):
    """PostgreSQL numbers the stamps as transactions ask for them: the first writer may commit last."""
    create_demo_catalog(session)
    session.commit()
    statuses(session)
    session.commit()
    factory = make_sessionmaker(engine)
    with factory() as first, factory() as second:
        first.execute(update(Resource).where(Resource.status == "submitted").values(status="returned"))
        second.execute(update(Resource).where(Resource.status == "draft").values(status="published"))
        second.commit()
        assert statuses(session) == by_sql(session)  # the cache has read the later stamps
        session.commit()
        first.commit()
    assert statuses(session) == by_sql(session)
    assert "submitted" not in statuses(session) and "draft" not in statuses(session)
