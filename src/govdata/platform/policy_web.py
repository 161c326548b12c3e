"""The policy page (POL-1, #13 item 20): the active profile's deadlines and rule switches in Chinese,
changed in place by the authority or the administrator (with a reason, checked as a profile file
is, kept in the history), stored profiles uploaded and activated by the administrator, and example
profiles to download.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from govdata.core.auth import Actor, DbSession
from govdata.core.errors import InvalidInput, Problem
from govdata.core.policy import Deadlines, PolicyProfile, Switches
from govdata.orgs import service as orgs
from govdata.platform import policy_edits, service
from govdata.platform.auth import (
    POLICY_EDIT,
    POLICY_MANAGE,
    POLICY_READ,
    PolicyEditor,
    PolicyManager,
    PolicyReader,
)
from govdata.web import check_same_origin, local_time, nav_item, render

router = APIRouter(include_in_schema=False)

nav_item("政策配置", "/policy", POLICY_READ, order=120)

TOML_MEDIA_TYPE = "application/toml; charset=utf-8"


def _deadline_rows(profile: PolicyProfile, entered: dict[str, dict[str, Any]] | None) -> list[dict[str, Any]]:
    rows = []
    for name in Deadlines.model_fields:
        rule = getattr(profile.deadlines, name)
        shown = (entered or {}).get(name)
        if shown is None:
            shown = {
                "working_days": "" if rule is None else rule.working_days,
                "statutory": bool(rule and rule.statutory),
                "source": "" if rule is None else rule.source,
            }
        rows.append(
            {
                "name": name,
                "label": policy_edits.DEADLINE_LABELS[name],
                "optional": policy_edits.optional_deadline(name),
                "set": rule is not None,
                "days": None if rule is None else rule.working_days,
                "statutory": None if rule is None else rule.statutory,
                "source": "" if rule is None else rule.source,
                "form": shown,
            }
        )
    return rows


def _switch_rows(profile: PolicyProfile, entered: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = []
    for name in Switches.model_fields:
        value = getattr(profile.switches, name)
        values = value if isinstance(value, tuple) else (value,)
        chosen = (entered or {}).get(name, [v.value for v in values])
        chosen = chosen if isinstance(chosen, list | tuple) else [chosen]
        enum = policy_edits.switch_enum(name)
        rows.append(
            {
                "name": name,
                "label": policy_edits.SWITCH_LABELS[name],
                "value": "、".join(v.label for v in values),
                "several": isinstance(value, tuple),
                "options": [{"value": m.value, "label": m.label, "chosen": m.value in chosen} for m in enum],
            }
        )
    return rows


def _history(session: Session, actor: Actor) -> list[dict[str, Any]]:
    entries = policy_edits.policy_history(session, actor)
    names = orgs.display_names(session, [e.actor for e in entries])
    return [
        {
            "at": local_time(e.at),
            "actor": names.get(e.actor, "平台" if e.actor == "govdata" else e.actor),
            "action": (
                "启用配置"
                if e.action == "activated"
                else ("保存新配置" if e.created and not e.changes else "修改配置")
            ),
            "profile": e.profile,
            "previous": e.previous,
            "reason": e.reason,
            "changes": [
                {
                    "field": policy_edits.field_label(c.get("field", "")),
                    "before": policy_edits.value_text(c.get("field", ""), c.get("before")),
                    "after": policy_edits.value_text(c.get("field", ""), c.get("after")),
                }
                for c in e.changes
            ],
        }
        for e in entries
    ]


def _policy_page(
    request: Request,
    session: Session,
    actor: Actor,
    status_code: int = 200,
    *,
    entered: dict[str, Any] | None = None,
    **extra: Any,
) -> Response:
    profile = service.active_policy(session, actor)
    stored = service.list_policies(session, actor)
    profiles = [{"name": p.name, "label": p.label, "active": p.active} for p in stored]
    if not any(p["active"] for p in profiles):
        # Nothing stored is active: the built-in default applies.
        profiles = [p for p in profiles if p["name"] != "default"]
        profiles.insert(0, {"name": "default", "label": profile.label, "active": True, "builtin": True})
    entered = entered or {}
    return render(
        request,
        "platform/policy.html",
        actor,
        status_code=status_code,
        profile=profile,
        deadline_rows=_deadline_rows(profile, entered.get("deadlines")),
        switch_rows=_switch_rows(profile, entered.get("switches")),
        reason=entered.get("reason", ""),
        profiles=profiles,
        history=_history(session, actor),
        examples=policy_edits.examples(session, actor),
        can_manage=actor.has(POLICY_MANAGE),
        can_edit=actor.has(POLICY_EDIT),
        field_errors=extra.pop("field_errors", {}),
        editing=extra.pop("editing", False) and actor.has(POLICY_EDIT),
        quote=quote,
        **extra,
    )


@router.get("/policy")
def policy_page(
    request: Request, session: DbSession, actor: PolicyReader, edit: Annotated[str, Query(max_length=5)] = ""
) -> Response:
    return _policy_page(request, session, actor, editing=bool(edit))


def _edit_form(form: FormData) -> dict[str, Any]:
    """The edit form's values: each deadline's days, statutory flag and source, each switch."""
    deadlines: dict[str, dict[str, Any]] = {}
    for name in Deadlines.model_fields:
        if f"deadline-{name}-days" not in form:
            continue
        deadlines[name] = {
            "working_days": str(form.get(f"deadline-{name}-days") or "")[:20],
            "statutory": bool(form.get(f"deadline-{name}-statutory")),
            "source": str(form.get(f"deadline-{name}-source") or "")[:1000],
        }
    switches: dict[str, Any] = {}
    for name in Switches.model_fields:
        values = [str(v)[:64] for v in form.getlist(f"switch-{name}")]
        if name == "objectors":
            switches[name] = values
        elif values:
            switches[name] = values[0]
    return {"deadlines": deadlines, "switches": switches, "reason": str(form.get("reason") or "")[:2000]}


@router.post("/policy/edit")
async def policy_edit(request: Request, session: DbSession, actor: PolicyEditor) -> Response:
    check_same_origin(request)
    entered = _edit_form(await request.form())
    try:
        profile, changes = policy_edits.edit_active_policy(
            session,
            actor,
            deadlines=entered["deadlines"],
            switches=entered["switches"],
            reason=entered["reason"],
        )
    except InvalidInput as exc:
        session.rollback()
        errors = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
        by_field = {str(e.get("field")): str(e.get("message")) for e in errors}
        return _policy_page(
            request,
            session,
            actor,
            422,
            entered=entered,
            editing=True,
            edit_errors=[f"{e.get('label') or ''}：{e.get('message')}" for e in errors] or [exc.detail],
            field_errors=by_field,
        )
    fields = "、".join(policy_edits.field_label(c["field"]) for c in changes[:5])
    more = f"等 {len(changes)} 项" if len(changes) > 5 else ""
    return _policy_page(
        request,
        session,
        actor,
        message=f"已修改“{profile.label}”：{fields}{more}。修改即时生效，已记入修改历史。",
    )


@router.post("/policy/profiles")
def policy_upload(
    request: Request,
    session: DbSession,
    actor: PolicyManager,
    file: Annotated[UploadFile | None, File()] = None,
    activate: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    check_same_origin(request)
    if file is None or not file.filename:
        return _policy_page(
            request, session, actor, 422, form_errors=["请选择要上传的政策配置文件（.toml 或 .json）。"]
        )
    try:
        content = file.file.read(service.MAX_UPLOAD_BYTES + 1)
        profile = service.save_policy_file(session, actor, file.filename, content, activate=bool(activate))
    except Problem as exc:
        session.rollback()
        details = [
            f"{policy_edits.field_label(str(e.get('field')))}：{e.get('message')}"
            for e in exc.extra.get("errors", [])[1:10]
            if isinstance(e, dict)
        ]
        return _policy_page(request, session, actor, exc.status, form_errors=[exc.detail, *details])
    message = f"已保存政策配置“{profile.label}”{'并已启用' if activate else '；尚未启用'}。"
    return _policy_page(request, session, actor, message=message)


@router.post("/policy/profiles/{name}/activate")
def policy_activate(request: Request, session: DbSession, actor: PolicyManager, name: str) -> Response:
    check_same_origin(request)
    try:
        service.activate_policy(session, actor, name)
    except Problem as exc:
        session.rollback()
        return _policy_page(request, session, actor, exc.status, form_errors=[exc.detail])
    profile = service.active_policy(session, actor)
    return _policy_page(request, session, actor, message=f"已启用政策配置“{profile.label}”。")


def _toml(filename: str, text: str) -> Response:
    return Response(
        text.encode("utf-8"),
        media_type=TOML_MEDIA_TYPE,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


@router.get("/policy/examples/{filename}")
def policy_example(request: Request, session: DbSession, actor: PolicyReader, filename: str) -> Response:
    name, text = policy_edits.example_file(session, actor, filename.removesuffix(".toml"))
    return _toml(name, text)


@router.get("/policy/profiles/{filename}")
def policy_profile_file(request: Request, session: DbSession, actor: PolicyReader, filename: str) -> Response:
    name, text = policy_edits.profile_file(session, actor, filename.removesuffix(".toml"))
    return _toml(name, text)
