"""Which use cases take a caller but never check it: a walk of the service modules' source.

A public function with an ``actor`` parameter counts as checked when it calls ``require``, a public
function of a capability's ``auth`` module (a permission predicate), or — transitively, across
modules — another function that is checked. Calls are resolved through each module's namespace, so
``catalog.find_resource(...)`` in aggregation counts when the catalog's ``find_resource`` is checked.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap
from types import ModuleType

import govdata

CAPABILITIES = (
    "orgs",
    "platform",
    "catalog",
    "aggregation",
    "quality",
    "libraries",
    "notifications",
    "supervision",
    "sharing",
    "opening",
    "projects",
    "workbench",
)
# modules that hold routes, pages, commands, tables or shapes rather than use cases
NOT_SERVICES = {
    "api",
    "web",
    "cli",
    "models",
    "schemas",
    "auth",
    "demo",
    "seed",
    "pages",
    "forms",
    "presenters",
}

Key = tuple[str, str]


def service_modules() -> list[ModuleType]:
    found = []
    for info in pkgutil.walk_packages(govdata.__path__, "govdata."):
        parts = info.name.split(".")
        if len(parts) < 3 or parts[1] not in CAPABILITIES or parts[-1] in NOT_SERVICES or info.ispkg:
            continue
        if any(p in NOT_SERVICES or p.endswith(("_api", "_auth")) for p in parts[2:]):
            continue
        found.append(importlib.import_module(info.name))
    return found


def _calls(module: ModuleType, node: ast.FunctionDef) -> set[Key]:
    names = vars(module)
    keys: set[Key] = set()
    for call in ast.walk(node):
        if not isinstance(call, ast.Call):
            continue
        if isinstance(call.func, ast.Name):
            target = names.get(call.func.id)
            if inspect.isfunction(target):
                keys.add((target.__module__, target.__name__))
            elif target is None:
                keys.add((module.__name__, call.func.id))
        elif isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name):
            owner = names.get(call.func.value.id)
            if inspect.ismodule(owner):
                target = getattr(owner, call.func.attr, None)
                if inspect.isfunction(target):
                    keys.add((target.__module__, target.__name__))
    return keys


def _is_check(key: Key) -> bool:
    module, name = key
    if key == ("govdata.core.auth", "require"):
        return True
    parts = module.split(".")
    return len(parts) == 3 and parts[1] in CAPABILITIES and parts[2] == "auth" and not name.startswith("_")


def functions_of(module: ModuleType) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(textwrap.dedent(inspect.getsource(module)))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}


def unchecked(modules: list[ModuleType]) -> list[str]:
    """``module.function`` of every public function taking an ``actor`` that never reaches a check."""
    calls: dict[Key, set[Key]] = {}
    takes_actor: list[Key] = []
    for module in modules:
        for name, node in functions_of(module).items():
            key = (module.__name__, name)
            calls[key] = _calls(module, node)
            if not name.startswith("_") and "actor" in [a.arg for a in node.args.args + node.args.kwonlyargs]:
                takes_actor.append(key)
    checked: set[Key] = set()
    while True:
        more = {
            k for k, c in calls.items() if k not in checked and any(_is_check(x) or x in checked for x in c)
        }
        if not more:
            break
        checked |= more
    return [f"{m}.{n}" for m, n in takes_actor if (m, n) not in checked]
