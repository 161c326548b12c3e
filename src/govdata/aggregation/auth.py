"""Permissions of aggregation (AGG): loading batches, reading batch reports, reading own data."""

from typing import Annotated

from fastapi import Depends

from govdata.core.auth import Actor, Authenticator, Role, permission

BATCH_LOAD = permission("aggregation.batch.load", {Role.dept_officer}, "向本部门资源归集数据")
# the platform in its own name: an internet-facing portal instance applies the open rows of the
# government node's signed open-data feed (opening.feed)
BATCH_FEED = permission("aggregation.batch.feed", {Role.admin}, "载入开放数据馈送中的数据（互联网门户实例）")
BATCH_ROLLBACK = permission(
    "aggregation.batch.rollback", {Role.dept_officer, Role.dept_head}, "回滚本部门的批次"
)
BATCH_READ = permission(
    "aggregation.batch.read",
    {Role.dept_officer, Role.dept_head, Role.dept_user, Role.authority},
    "查看归集批次与报告",
    writes=False,
)
DATA_READ = permission(
    "aggregation.data.read",
    {Role.dept_officer, Role.dept_head, Role.dept_user, Role.app},
    "查询数据记录",
    writes=False,
)

PULL_MANAGE = permission("aggregation.pull.manage", {Role.dept_officer}, "管理并运行本部门的数据库定时归集")
PULL_READ = permission(
    "aggregation.pull.read", {Role.dept_officer, Role.authority}, "查看数据库定时归集", writes=False
)

BatchLoader = Annotated[Actor, Depends(Authenticator(BATCH_LOAD))]
BatchRollbacker = Annotated[Actor, Depends(Authenticator(BATCH_ROLLBACK))]
BatchReader = Annotated[Actor, Depends(Authenticator(BATCH_READ))]
DataReader = Annotated[Actor, Depends(Authenticator(DATA_READ))]


# --- object predicates: the services enforce them, the pages ask them to show a button -------------


def is_provider(actor: Actor, provider_id: int | None) -> bool:
    """The caller works in the department that provides the resource."""
    return actor.department_id is not None and actor.department_id == provider_id


def can_load(actor: Actor, provider_id: int | None) -> bool:
    return actor.has(BATCH_LOAD) and is_provider(actor, provider_id)


def can_rollback(actor: Actor, department_id: int | None) -> bool:
    return actor.has(BATCH_ROLLBACK) and is_provider(actor, department_id)


def can_read_batches(actor: Actor, department_id: int | None) -> bool:
    return actor.has(BATCH_READ) and (Role.authority in actor.roles or is_provider(actor, department_id))


def can_read_own_data(actor: Actor, provider_id: int | None) -> bool:
    """Before any grant only the provider's own staff read a resource's records (sharing adds grants)."""
    return actor.has(DATA_READ) and is_provider(actor, provider_id)


def can_manage_pulls(actor: Actor, department_id: int | None) -> bool:
    """Define, change and run a database pull: the providing department's officers only."""
    return actor.has(PULL_MANAGE) and is_provider(actor, department_id)


def can_read_pulls(actor: Actor, department_id: int | None) -> bool:
    """See a database pull and its runs: its department, and the authority that supervises them."""
    return actor.has(PULL_READ) and (Role.authority in actor.roles or is_provider(actor, department_id))
