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


def test_every_route_declares_its_response_model() -> None:
    from fastapi.routing import APIRoute

    from api.main import create_app

    missing = [f"{sorted(r.methods)} {r.path}" for r in create_app().routes
               if isinstance(r, APIRoute) and r.response_model is None]
    assert missing == []


def test_roles_are_decided_only_by_the_access_policy() -> None:
    """One module decides what a principal may see; nobody else compares role names."""
    offenders = []
    for package in ("api", "knowledge", "agents", "evals", "policies", "core"):
        for path in (ROOT / package).rglob("*.py"):
            if path == ROOT / "core" / "access.py":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) and node.left.attr == "role":
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_env_example_lists_every_setting() -> None:
    from core.settings import env_example

    assert (ROOT / ".env.example").read_text(encoding="utf-8") == env_example()


def test_langgraph_json_points_at_uncompiled_builders() -> None:
    import importlib
    import json

    from langgraph.graph import StateGraph

    config = json.loads((ROOT / "langgraph.json").read_text(encoding="utf-8"))
    assert config["dependencies"] == ["."]
    for name, target in config["graphs"].items():
        module_path, _, attribute = target.partition(":")
        module = importlib.import_module(module_path.removeprefix("./").removesuffix(".py").replace("/", "."))
        assert isinstance(getattr(module, attribute), StateGraph), name
