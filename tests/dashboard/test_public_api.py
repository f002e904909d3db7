"""The dashboard uses only the public API: `perfmodel` (the package root) and `perfmodel.viz`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import perfmodel as pm
import perfmodel.viz as viz

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
PUBLIC = {"perfmodel", "perfmodel.viz"}


def _imports(path: Path) -> list[str]:
    modules = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.append(node.module)
    return modules


@pytest.mark.parametrize("path", sorted(DASHBOARD.rglob("*.py")), ids=lambda p: p.name)
def test_dashboard_imports_only_public_modules(path: Path) -> None:
    private = [m for m in _imports(path) if m.startswith("perfmodel") and m not in PUBLIC]
    assert not private, f"{path.name} imports {private}; export the names from perfmodel or perfmodel.viz"


def test_every_exported_name_resolves() -> None:
    for name in pm.__all__:
        assert getattr(pm, name) is not None, name
    for name in viz.__all__:
        assert getattr(viz, name) is not None, name
    with pytest.raises(AttributeError):
        viz.no_such_figure  # noqa: B018


def test_plan_files_lists_the_shipped_plans() -> None:
    root = DASHBOARD.parent / "workloads" / "plans"
    assert pm.plan_files() == {p.stem: p for p in sorted(root.glob("*.yaml"))}
    assert pm.plan_files()  # the repo ships some


def test_cancelled_is_a_perfmodel_error() -> None:
    assert issubclass(pm.Cancelled, pm.PerfModelError)
