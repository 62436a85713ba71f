"""Imports run one way: every module of claims imports, the import graph among them has no
cycle, nothing imports the HTTP middleware, and the log's pure core imports no Django.

The graph is read from the source (``ast``), from imports at module level and inside
functions alike; imports under ``if TYPE_CHECKING:`` never run, so they are no edges.
"""

from __future__ import annotations

import ast
import importlib
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
# The fold and the table it applies, and the offline verifier: no Django, whatever they import.
PURE = ["claims.log.fold", "claims.log.actions", "claims.log.state", "claims.log.verify_export"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted((ROOT / "claims").rglob("*.py"))}


def _type_checking(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def imported(name: str) -> tuple[set[str], set[str]]:
    """The claims modules ``name`` imports (with the packages that importing them runs),
    and the top-level names of everything else it imports."""
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    others: set[str] = set()
    nodes: list[ast.AST] = [ast.parse(MODULES[name].read_text(encoding="utf-8"))]
    while nodes:
        for node in ast.iter_child_nodes(nodes.pop()):
            if _type_checking(node):
                nodes.extend(node.orelse)  # type: ignore[attr-defined]
                continue
            nodes.append(node)
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                # ``from claims.log import chain`` imports the module claims.log.chain.
                targets = [
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                    for alias in node.names
                ]
            else:
                continue
            for target in targets:
                if target.split(".")[0] != "claims":
                    others.add(target.split(".")[0])
                    continue
                parts = target.split(".")
                found |= {".".join(parts[:n]) for n in range(1, len(parts) + 1)} & MODULES.keys()
    found.discard(name)
    return found, others


GRAPH = {name: imported(name)[0] for name in MODULES}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_module_imports(name: str) -> None:
    importlib.import_module(name)


def test_the_imports_among_claims_modules_have_no_cycle() -> None:
    try:
        TopologicalSorter(GRAPH).prepare()
    except CycleError as error:
        pytest.fail(f"import cycle: {' -> '.join(error.args[1])}")


def test_only_the_settings_name_the_middleware() -> None:
    """The write path and everything else reach the log's context variables through the
    log; the settings name the middleware by a string, which is no import."""
    assert [name for name, targets in GRAPH.items() if "claims.middleware" in targets] == []


def test_the_models_import_the_log_and_the_write_path_imports_no_model() -> None:
    assert "claims.log.chain" in GRAPH["claims.models"]
    assert "claims.models" not in GRAPH["claims.log.chain"]


@pytest.mark.parametrize("name", PURE)
def test_the_pure_core_of_the_log_imports_no_django(name: str) -> None:
    reached, stack = {name}, [name]
    while stack:
        for target in GRAPH[stack.pop()] - reached:
            reached.add(target)
            stack.append(target)
    reached -= {"claims", "claims.log"}  # packages whose __init__ imports nothing
    assert reached <= set(PURE), reached - set(PURE)
    for module in reached:
        assert "django" not in imported(module)[1], module
