"""The demo's base libraries: 人口 led by 市公安局, 法人 led by 市市场监管局, each base item sourced from the
lead department's published resource that holds it (the demo catalog must exist first)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.libraries import service
from govdata.libraries.models import Library
from govdata.orgs.models import Department, User
from govdata.orgs.service import actor_for_user

LEADS = {"population": "002", "legal_person": "003"}  # department codes of the demo region
AUTHORITY_USER = "dsj_officer"


def create_demo_libraries(session: Session) -> int:
    """Seed the definitions with their lead departments and name sources; returns the fields sourced."""
    departments = {
        code: dept_id
        for code, dept_id in session.execute(
            select(Department.code, Department.id).where(Department.code.in_(LEADS.values()))
        )
    }
    leads = {library: departments[code] for library, code in LEADS.items() if code in departments}
    service.seed_libraries(session, leads)
    user = session.scalar(select(User).where(User.username == AUTHORITY_USER))
    if user is None:
        return 0
    authority = actor_for_user(user)
    sourced = 0
    for library in session.scalars(select(Library).where(Library.code.in_(LEADS)).order_by(Library.id)):
        if library.lead_department_id is None:
            continue
        view = service.library_view(session, library)
        for field in view["fields"]:
            if field["source"] is not None:
                continue
            own = [c for c in field["candidates"] if c["department_id"] == library.lead_department_id]
            if own:
                service.set_field_source(
                    session, authority, library.id, field["element"], own[0]["resource_code"]
                )
                sourced += 1
    return sourced
