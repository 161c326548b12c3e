"""Organisations for tests: a department to register (ORG-1)."""

from __future__ import annotations

from govdata.core.ids import uscc_make


def new_department(**overrides) -> dict:
    """The payload of a department the demo region does not have yet: 焦作市统计局."""
    body = {
        "name": "焦作市统计局",
        "uscc": uscc_make("1", "1", "410800", "MB123456"),
        "region_code": "410800",
    }
    body.update(overrides)
    return body
