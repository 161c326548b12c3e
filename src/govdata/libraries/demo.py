"""The demo's base libraries: 人口 led by 市公安局, 法人 by 市市场监管局, 自然资源和空间地理 by 市自然资源和规划局,
电子证照 by 市大数据局; each base item sourced from the lead department's published resource that holds it,
and one authoritative source beyond them (the demo catalog must exist first)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from govdata.catalog import service as catalog
from govdata.libraries import service, sources
from govdata.libraries.models import Library
from govdata.orgs.models import Department, User
from govdata.orgs.service import actor_for_user

# department codes of the demo region: 人口 公安, 法人 市场监管, 空间 自然资源和规划, 电子证照 the authority
# itself (seed 002: 数据资源主管部门牵头建立……电子证照……基础数据资源库)
LEADS = {"population": "002", "legal_person": "003", "spatial": "007", "e_license": "001"}
AUTHORITY_USER = "dsj_officer"
# one number, one source beyond the base libraries (CAT-9): (element, subject, department code)
DESIGNATIONS = [("社会保障卡号", "natural_person", "004")]


def create_demo_libraries(session: Session) -> int:
    """Seed the definitions with their lead departments and name sources; returns the fields sourced."""
    departments = {
        code: dept_id
        for code, dept_id in session.execute(
            select(Department.code, Department.id).where(
                Department.code.in_({*LEADS.values(), *(code for _, _, code in DESIGNATIONS)})
            )
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
    named = sources.designations(session)
    for element, subject, code in DESIGNATIONS:
        holders = [
            h
            for h in catalog.held_elements(session, [element])
            if h.subject == subject and h.resource.provider_id == departments.get(code)
        ]
        if holders and (element, subject) not in named:
            sources.designate(session, authority, element, subject, holders[0].resource.code)
            sourced += 1
    return sourced
