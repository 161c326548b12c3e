"""Who sees which resource and who may do what to it (CAT-5, SEC-2): one rule in ``catalog.auth``, asked
by the services, the search, the export and the pages alike."""

from __future__ import annotations

from sqlalchemy import select

from govdata.catalog import auth
from govdata.catalog.demo import create_demo_catalog
from govdata.catalog.models import Resource, ResourceVersion
from govdata.core.auth import Actor, Role
from govdata.orgs.models import ApplicationSystem, User
from govdata.orgs.service import actor_for_user

# --- one visibility rule -----------------------------------------------------------------------------


def demo_actors(session) -> dict[str, Actor]:
    """Every demo user, and each application system acting on its own."""
    actors = {u.username: actor_for_user(u) for u in session.scalars(select(User).order_by(User.id))}
    for system in session.scalars(select(ApplicationSystem).order_by(ApplicationSystem.id)):
        actors[f"system:{system.name}"] = Actor(
            kind="system",
            roles=frozenset({Role.app}),
            department_id=system.department_id,
            system_id=system.id,
        )
    return actors


def test_the_sql_clause_and_the_predicate_agree_for_every_role_and_state(session):
    create_demo_catalog(session)
    session.commit()
    resources = list(session.scalars(select(Resource).order_by(Resource.id)))
    states = {(r.status, r.published_version is not None, r.open_type) for r in resources}
    assert {s for s, _, _ in states} == {"draft", "submitted", "returned", "published", "retired"}
    assert any(working.status == "submitted" for working in session.scalars(select(ResourceVersion)))
    actors = demo_actors(session)
    assert {role for actor in actors.values() for role in actor.roles} == set(Role)

    seen: dict[str, set[int]] = {}
    for name, actor in actors.items():
        stmt = select(Resource.id)
        if (clause := auth.readable(actor)) is not None:
            stmt = stmt.where(clause)
        by_sql = set(session.scalars(stmt))
        by_predicate = {r.id for r in resources if auth.is_visible(actor, r)}
        assert by_sql == by_predicate, name
        seen[name] = by_sql

    everything = {r.id for r in resources}
    published = {r.id for r in resources if r.published_version is not None}
    assert seen["dsj_officer"] == everything
    assert seen["rs_user"] > published  # every published resource, and its department's drafts
    open_published = {r.id for r in resources if r.status == "published" and r.open_type != "none"}
    assert seen["citizen"] == open_published and 0 < len(open_published) < len(published)


def test_a_department_sees_its_own_drafts_and_others_only_once_published(session):
    create_demo_catalog(session)
    session.commit()
    actors = demo_actors(session)
    ga, rs = actors["ga_officer"], actors["rs_officer"]
    for resource in session.scalars(select(Resource)):
        if resource.provider_id == ga.department_id:
            assert auth.is_visible(ga, resource) and auth.sees_unpublished(ga, resource)
        else:
            assert not auth.sees_unpublished(ga, resource)
        if resource.provider_id != rs.department_id:
            assert auth.is_visible(rs, resource) == (resource.published_version is not None)


# --- object predicates -------------------------------------------------------------------------------


def _actor(*roles: Role, department_id: int | None = 2) -> Actor:
    return Actor(kind="user", roles=frozenset(roles), username="someone", department_id=department_id)


def _resource(status: str, published_version: int | None = None) -> Resource:
    return Resource(provider_id=2, status=status, published_version=published_version, open_type="none")


def _version(status: str) -> ResourceVersion:
    return ResourceVersion(status=status, version=1)


def test_publishing_follows_the_policy_switch():
    submitted, working = _resource("submitted"), _version("submitted")
    head, other_head = _actor(Role.dept_head), _actor(Role.dept_head, department_id=3)
    authority = _actor(Role.authority, department_id=1)
    assert auth.can_publish(authority, submitted, working, "authority")
    assert not auth.can_publish(head, submitted, working, "authority")
    assert auth.can_publish(head, submitted, working, "provider")
    assert not auth.can_publish(other_head, submitted, working, "provider")
    refusal = auth.publish_refusal(head, submitted, working, "authority")
    assert (
        refusal is not None and refusal.status == 403 and refusal.detail == "目录由数据资源主管部门审核发布。"
    )
    assert not auth.can_publish(authority, _resource("draft"), _version("draft"), "authority")
    assert auth.publish_refusal(authority, _resource("draft"), _version("draft"), "authority").status == 409


def test_lifecycle_predicates_follow_the_state():
    officer, other = _actor(Role.dept_officer), _actor(Role.dept_officer, department_id=3)
    authority = _actor(Role.authority, department_id=1)
    draft, returned = _resource("draft"), _resource("returned")
    published, retired = _resource("published", 1), _resource("retired", 1)

    assert auth.can_submit(officer, draft, _version("draft"))
    assert auth.can_submit(officer, returned, _version("returned"))
    assert not auth.can_submit(other, draft, _version("draft"))
    assert not auth.can_submit(officer, _resource("submitted"), _version("submitted"))
    assert auth.can_edit(officer, draft, _version("draft"))
    assert not auth.can_edit(officer, _resource("submitted"), _version("submitted"))
    assert not auth.can_edit(officer, retired, None) and not auth.can_edit(other, published, None)
    assert auth.can_revise(officer, published, None) and not auth.can_revise(
        officer, draft, _version("draft")
    )
    assert not auth.can_revise(officer, published, _version("draft"))  # a revision is already open
    assert auth.can_return(authority, _resource("submitted"), _version("submitted"))
    assert not auth.can_return(officer, _resource("submitted"), _version("submitted"))
    assert auth.can_retire(authority, published, None)
    assert not auth.can_retire(authority, published, _version("submitted"))
    assert not auth.can_retire(authority, retired, None) and not auth.can_retire(officer, published, None)
    assert auth.change_refusal(retired, None).slug == "resource-retired"
