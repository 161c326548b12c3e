"""Every use case that takes a caller checks it (``require`` or a predicate of a capability's
``auth.py``), in every capability: the service layer is where API, CLI and pages meet the rules."""

from __future__ import annotations

import types

from tests.support.service_checks import service_modules, unchecked

# Public functions that take an actor yet rightly check nothing themselves, with the reason.
UNCHECKED: dict[str, str] = {
    "govdata.aggregation.pulls.runner.execute_run": (
        "runs a run that start_run claimed after check_can_run checked the caller; the actor is who the "
        "batch is recorded for"
    ),
    "govdata.orgs.service.logout": "revokes the token the caller presented; holding it is the right",
    "govdata.orgs.service.me": "describes the caller to itself, whoever it is (the route needs a login)",
}


def test_every_use_case_that_takes_a_caller_checks_it():
    modules = service_modules()
    assert len(modules) >= 10
    missing = [name for name in unchecked(modules) if name not in UNCHECKED]
    assert missing == [], f"{missing} take an actor but never check it"


def test_the_walk_finds_a_use_case_that_forgets_the_check():
    module = types.ModuleType("govdata.catalog.fake_service")
    source = """
from govdata.core.auth import require

def careful(session, actor, code):
    require(actor, None)

def via_careful(session, actor, code):
    return careful(session, actor, code)

def forgetful(session, actor, code):
    return session.get(code)

def fact(session, code):
    return session.get(code)
"""
    exec(compile(source, "fake_service.py", "exec"), module.__dict__)
    import inspect

    original = inspect.getsource
    inspect.getsource = lambda obj: source if obj is module else original(obj)
    try:
        assert unchecked([module]) == ["govdata.catalog.fake_service.forgetful"]
    finally:
        inspect.getsource = original
