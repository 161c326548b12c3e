"""Input and output of the organisations API (SPEC §15: me, department, users, systems)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from govdata.core.auth import Role
from govdata.core.errors import register_field_labels
from govdata.core.schemas import OrmModel
from govdata.orgs.models import IdentityKind, OrgType


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class MeOut(BaseModel):
    id: int | None
    username: str | None
    display_name: str | None
    department_id: int | None
    department_name: str | None
    roles: list[str]
    kind: str
    system_id: int | None = None


class DepartmentIn(BaseModel):
    name: str = Field(min_length=2, max_length=200, description="部门名称")
    uscc: str = Field(description="统一社会信用代码（GB 32100）")
    region_code: str = Field(description="行政区划代码（GB/T 2260）")
    parent_id: int | None = Field(default=None, description="上级部门")
    is_authority: bool = Field(default=False, description="是否为本地区数据资源主管部门")
    org_type: OrgType = Field(
        default=OrgType.government,
        description="机构类型：government 政府部门 | authorized_organization 法律法规授权组织 | "
        "public_institution 事业单位 | public_service_enterprise 具有公共服务职能的企业 | "
        "peoples_organization 人民团体",
    )
    short_name: str | None = Field(default=None, max_length=50, description="简称")
    principal_head: str | None = Field(default=None, max_length=100, description="主要负责人（第一责任人）")
    code: str | None = Field(default=None, max_length=20, description="部门编码（资源代码中的提供方代码）")


class DepartmentOut(OrmModel):
    id: int
    name: str
    short_name: str | None
    uscc: str
    region_code: str
    region_name: str | None = None
    parent_id: int | None
    org_type: str
    org_type_label: str = ""
    is_authority: bool
    principal_head: str | None
    code: str | None


class UserIn(BaseModel):
    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$", description="登录名")
    password: str = Field(min_length=1, max_length=256, description="密码")
    display_name: str = Field(min_length=1, max_length=100, description="姓名")
    department_id: int | None = Field(default=None, description="所属部门；社会公众为空")
    roles: list[Role] = Field(min_length=1, description="角色")
    identity_kind: IdentityKind | None = Field(default=None, description="公众账号的主体类型")
    identity_number: str | None = Field(default=None, description="公民身份号码或统一社会信用代码")


class UserPatch(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    roles: list[Role] | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=256)
    reason: str | None = Field(default=None, max_length=500, description="原因，记入审计日志；停用账号时必填")


class UserOut(OrmModel):
    id: int
    username: str
    display_name: str
    department_id: int | None
    roles: list[str]
    active: bool
    identity_kind: str | None
    locked_until: datetime | None
    last_login_at: datetime | None


class SystemIn(BaseModel):
    name: str = Field(min_length=2, max_length=200, description="应用系统名称")
    description: str | None = Field(default=None, max_length=500)


class SystemOut(OrmModel):
    id: int
    department_id: int
    name: str
    description: str | None
    active: bool
    created_at: datetime


class CredentialIn(BaseModel):
    expires_in_days: int = Field(default=365, ge=1, le=730, description="有效天数")


class CredentialOut(OrmModel):
    id: int
    system_id: int
    hint: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedCredential(CredentialOut):
    token: str = Field(description="访问令牌，仅此一次显示")


register_field_labels(
    {
        "name": "名称",
        "uscc": "统一社会信用代码",
        "region_code": "行政区划代码",
        "parent_id": "上级部门",
        "username": "登录名",
        "password": "密码",
        "display_name": "姓名",
        "department_id": "所属部门",
        "roles": "角色",
        "identity_kind": "主体类型",
        "org_type": "机构类型",
        "identity_number": "身份号码",
        "expires_in_days": "有效天数",
    }
)
