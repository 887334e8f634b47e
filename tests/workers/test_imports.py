"""The shape of the ``workers`` package: no import cycles, one module that builds the Celery app,
no late imports or asserts standing in for structure, and nothing below importing it back."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

from workers import catalog  # noqa: F401 - records every task
from workers.registry import SPECS, TOPICS

ROOT = Path(__file__).resolve().parents[2]
WORKERS = ROOT / "workers"
APP_MODULE = "workers.app"


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("workers", "workflows", "storage", "templates", cache_dir=None)


def workers_modules(graph: grimp.ImportGraph) -> set[str]:
    return {m for m in graph.modules if m == "workers" or m.startswith("workers.")}


def import_cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (or a module importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in edges.get(node, ()):
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert import_cycles({"a": {"b"}, "b": set()}) == []


def test_workers_has_no_import_cycle(graph: grimp.ImportGraph) -> None:
    # grimp counts every import, those inside functions too: a late import does not hide a cycle.
    modules = workers_modules(graph)
    edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
    assert import_cycles(edges) == []


def test_no_module_of_workers_imports_the_celery_app(graph: grimp.ImportGraph) -> None:
    # Task modules record their tasks in workers.registry; the Celery app registers them.
    importers = graph.find_modules_that_directly_import(APP_MODULE) & workers_modules(graph)
    assert importers == set()
    for module in workers_modules(graph) - {APP_MODULE}:
        path = WORKERS.parent / module.replace(".", "/")
        source = (path / "__init__.py" if path.is_dir() else path.with_suffix(".py")).read_text(encoding="utf-8")
        assert "Celery(" not in source or module == "workers.celery_config", module


@pytest.mark.parametrize("lower", ["workflows", "storage", "templates"])
def test_lower_layers_never_import_workers(graph: grimp.ImportGraph, lower: str) -> None:
    assert not graph.chain_exists(importer=lower, imported="workers", as_packages=True)


def test_workers_has_no_function_level_import_or_assert() -> None:
    found: list[str] = []
    for path in sorted(WORKERS.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Assert):
                found.append(f"{path.name}:{node.lineno} assert")
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for inner in ast.walk(node):
                    if isinstance(inner, ast.Import | ast.ImportFrom) and "PLC0415" not in lines[inner.lineno - 1]:
                        found.append(f"{path.name}:{inner.lineno} import inside {node.name}")
    assert found == []


def test_topics_come_from_the_task_decorators() -> None:
    declared: dict[str, list[str]] = {}
    for spec in SPECS.values():
        for topic in spec.topics:
            declared.setdefault(topic, []).append(spec.name)
    assert declared == TOPICS
    assert TOPICS["application.approved"] == ["agreements.create_from_application"]
    assert TOPICS["activity.archive_requested"] == ["kinderflow.activities.build_bundle"]
