"""Imports flow one way: api → evals → agents → knowledge / policies → core, never back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# package -> packages it must not import
FORBIDDEN = {
    "core": {"policies", "knowledge", "agents", "evals", "api"},
    "policies": {"knowledge", "agents", "evals", "api"},
    "knowledge": {"policies", "agents", "evals", "api"},
    "agents": {"evals", "api"},
    "evals": {"api"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_import_points_back_up(package: str) -> None:
    offenders = [f"{path.relative_to(ROOT)} imports {sorted(_imports(path) & FORBIDDEN[package])}"
                 for path in (ROOT / package).rglob("*.py") if _imports(path) & FORBIDDEN[package]]
    assert offenders == []


def test_no_llm_client_is_built_outside_the_gateway() -> None:
    builders = [path.relative_to(ROOT).as_posix() for package in (*FORBIDDEN, "api")
                for path in (ROOT / package).rglob("*.py") if "ChatOpenAI(" in path.read_text(encoding="utf-8")]
    assert builders == ["core/llm/gateway.py"]


def test_rule_modules_use_no_llm() -> None:
    for path in (ROOT / "policies").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "core.llm" not in text and "langchain" not in text, path
