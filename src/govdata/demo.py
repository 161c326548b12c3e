"""The demo region (焦作市, 410800, in 河南省): its data authority, departments, users for every role
and one application system with a credential. Names and codes are realistic but invented; the
统一社会信用代码 are made with valid GB 32100 check characters."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from govdata.catalog.demo import create_demo_catalog
from govdata.core.auth import SYSTEM_ACTOR, Role
from govdata.core.ids import ric_check_digit, uscc_make
from govdata.evaluation.demo import create_demo_history
from govdata.libraries.demo import create_demo_libraries
from govdata.objections.demo import create_demo_objections
from govdata.opening.demo import create_demo_opening
from govdata.opening.demo_public import create_demo_public
from govdata.orgs import service as orgs
from govdata.orgs.models import IdentityKind, OrgType
from govdata.orgs.schemas import CredentialIn, DepartmentIn, SystemIn, UserIn
from govdata.sharing.demo import create_demo_sharing

REGION = "410800"
DEMO_PASSWORD = "Jiaozuo@2026"

# (code, name, short name, principal head, organisation type, region)
DEPARTMENTS = [
    ("001", "焦作市大数据管理局", "市大数据局", "王建国", OrgType.government, REGION),
    ("002", "焦作市公安局", "市公安局", "赵永刚", OrgType.government, REGION),
    ("003", "焦作市市场监督管理局", "市市场监管局", "钱立新", OrgType.government, REGION),
    ("004", "焦作市人力资源和社会保障局", "市人社局", "孙卫东", OrgType.government, REGION),
    ("005", "焦作市民政局", "市民政局", "李秀英", OrgType.government, REGION),
    ("006", "焦作市卫生健康委员会", "市卫健委", "周海燕", OrgType.government, REGION),
    ("007", "焦作市自然资源和规划局", "市自然资源局", "吴志强", OrgType.government, REGION),
    ("008", "焦作市住房和城乡建设局", "市住建局", "郑国华", OrgType.government, REGION),
    ("009", "焦作市教育局", "市教育局", "冯丽娟", OrgType.government, REGION),
    ("010", "焦作市医疗保障局", "市医保局", "陈建军", OrgType.government, REGION),
    # authorised by the 住房公积金管理条例 to manage public affairs (ORG-2: 法律法规授权组织)
    ("011", "焦作市住房公积金管理中心", "市公积金中心", "褚红梅", OrgType.authorized_organization, REGION),
    ("012", "焦作市生态环境局", "市生态环境局", "卫东升", OrgType.government, REGION),
    ("013", "焦作市交通运输局", "市交通运输局", "蒋文博", OrgType.government, REGION),
    ("014", "修武县公安局", "修武县公安局", "沈国栋", OrgType.government, "410821"),
]

# (username, display name, department code, roles)
USERS = [
    ("dsj_officer", "李明", "001", [Role.authority]),
    ("auditor", "孙燕", "001", [Role.auditor]),
    ("ga_officer", "张丽", "002", [Role.dept_officer]),
    ("ga_head", "赵永刚", "002", [Role.dept_head]),
    ("scjg_officer", "周敏", "003", [Role.dept_officer]),
    ("rs_officer", "刘洋", "004", [Role.dept_officer]),
    ("rs_user", "陈静", "004", [Role.dept_user]),
    ("rs_head", "孙卫东", "004", [Role.dept_head]),
    ("wj_user", "吴磊", "006", [Role.dept_user]),
    ("mz_officer", "何芳", "005", [Role.dept_officer]),
    ("wj_officer", "韩雪", "006", [Role.dept_officer]),
    ("zrzy_officer", "曹磊", "007", [Role.dept_officer]),
    ("zj_officer", "许静", "008", [Role.dept_officer]),
    ("jy_officer", "邓超", "009", [Role.dept_officer]),
    ("yb_officer", "彭丽", "010", [Role.dept_officer]),
    ("gjj_officer", "吕红", "011", [Role.dept_officer]),
    ("sthj_officer", "苏洋", "012", [Role.dept_officer]),
    ("jt_officer", "丁伟", "013", [Role.dept_officer]),
    ("xwga_officer", "马骏", "014", [Role.dept_officer]),
]

APP_SYSTEM = ("004", "养老保险待遇资格认证系统", "市人社局业务系统，调用人口基础信息比对验证服务")


@dataclass
class DemoLogin:
    username: str
    password: str
    display_name: str
    roles: str
    department: str


def demo_uscc(index: int, region: str = REGION) -> str:
    # 1 = 机构编制 (registration authority), 1 = 机关 (category); organisation code "MB" + 6 digits.
    return uscc_make("1", "1", region, f"MB{17_3000 + index * 137:06d}")


def demo_citizen_id() -> str:
    first17 = "41080219850312" + "247"
    return first17 + ric_check_digit(first17)


def create_demo(session: Session, *, with_catalog: bool = True, store=None) -> tuple[list[DemoLogin], str]:
    """Create the demo region in an initialised store. Returns the logins and the system token.

    Tests build their stores without the demo catalog, so that each test states the resources it uses.
    """
    actor = SYSTEM_ACTOR
    departments = {}
    for index, (code, name, short, head, org_type, region) in enumerate(DEPARTMENTS):
        parent = departments.get("002") if code == "014" else None
        departments[code] = orgs.create_department(
            session,
            actor,
            DepartmentIn(
                name=name,
                short_name=short,
                uscc=demo_uscc(index, region),
                region_code=region,
                parent_id=parent.id if parent else None,
                is_authority=code == "001",
                org_type=org_type,
                principal_head=head,
                code=code,
            ),
        )
    logins: list[DemoLogin] = []
    for username, display, dept_code, roles in USERS:
        department = departments[dept_code]
        orgs.create_user(
            session,
            actor,
            UserIn(
                username=username,
                password=DEMO_PASSWORD,
                display_name=display,
                department_id=department.id,
                roles=roles,
            ),
        )
        logins.append(DemoLogin(username, DEMO_PASSWORD, display, _labels(roles), department.name))
    orgs.create_user(
        session,
        actor,
        UserIn(
            username="citizen",
            password=DEMO_PASSWORD,
            display_name="郑华",
            roles=[Role.public],
            identity_kind=IdentityKind.natural_person,
            identity_number=demo_citizen_id(),
        ),
    )
    logins.append(DemoLogin("citizen", DEMO_PASSWORD, "郑华", _labels([Role.public]), "（社会公众）"))
    # a third-party evaluation body (第三方评估机构) the authority engaged: reads the scorecards and
    # enters the manual scores it is asked for, nothing else
    orgs.create_user(
        session,
        actor,
        UserIn(username="evaluator", password=DEMO_PASSWORD, display_name="郭文", roles=[Role.evaluator]),
    )
    logins.append(
        DemoLogin("evaluator", DEMO_PASSWORD, "郭文", _labels([Role.evaluator]), "（第三方评估机构）")
    )
    dept_code, name, description = APP_SYSTEM
    system = orgs.create_system(
        session, actor, departments[dept_code].id, SystemIn(name=name, description=description)
    )
    _, token = orgs.issue_credential(session, actor, system.id, CredentialIn(expires_in_days=365))
    if with_catalog:
        _demo_systems(session)
        create_demo_catalog(session)
        create_demo_libraries(session)
        create_demo_sharing(session)
        create_demo_objections(session, store)  # only when given a store holding records
        logins.append(DemoLogin(*create_demo_public(session, DEMO_PASSWORD)))
        create_demo_opening(session, store)
        create_demo_history(session)  # a year of applications, violations, notices and scores
    return logins, token


def _demo_systems(session: Session) -> None:
    """市公安局's officer has registered a business system and replaced its first credential: the
    应用系统 pages show a system with an active and a revoked credential, each issued by a person."""
    officer = orgs.actor_named(session, "ga_officer")
    system = orgs.create_system(
        session,
        officer,
        officer.department_id,
        SystemIn(name="户籍业务核验系统", description="办理户籍迁移时核验申请人身份"),
    )
    first, _ = orgs.issue_credential(session, officer, system.id, CredentialIn(expires_in_days=90))
    orgs.issue_credential(session, officer, system.id, CredentialIn(expires_in_days=365))
    orgs.revoke_credential(session, officer, system.id, first.id)


def _labels(roles: list[Role]) -> str:
    from govdata.core.auth import ROLE_LABELS

    return "、".join(ROLE_LABELS[r] for r in roles)


def write_logins(path: Path, admin_password: str | None, logins: list[DemoLogin], token: str) -> str:
    """The demo logins as text, also kept (mode 0600) in the data directory for later starts."""
    lines = [
        "演示账号（仅用于演示，请勿在生产环境使用）：",
        f"  {'用户名':<14}{'密码':<16}姓名 · 角色 · 部门",
    ]
    if admin_password:
        lines.append(
            f"  {'admin':<16}{admin_password:<18} 平台管理员 · GOVDATA_ADMIN_PASSWORD 未设置，已随机生成"
        )
    else:
        lines.append(f"  {'admin':<16}{'(GOVDATA_ADMIN_PASSWORD)':<18} 平台管理员")
    for login in logins:
        lines.append(
            f"  {login.username:<16}{login.password:<18} {login.display_name} · {login.roles} · {login.department}"
        )
    lines.append(f"应用系统“{APP_SYSTEM[1]}”（市人社局）的访问令牌：")
    lines.append(f"  {token}")
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(text, encoding="utf-8")
    return text
