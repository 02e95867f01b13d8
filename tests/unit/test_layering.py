"""What the import contracts (``[tool.importlinter]``, run by ``make check``) cannot see.

* The Lambda entry points in ``functions/`` are not a package, so import-linter does not
  analyse them: they may reach only public entry points — the composition root
  (``lambdagraph.wiring``), ``lambdagraph.entry``, ``lambdagraph.errors`` and names a
  subpackage exports in its ``__all__`` — never a module inside a subpackage.
* The layer's source (``layers/lambdagraph/``, the template's ``ContentUri``) holds no module
  that imports development-only code: the client package, moto, websockets, uvicorn's
  reloaders. The packaging test checks the same of the built layer.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.template import REPO_ROOT

FUNCTIONS = sorted((REPO_ROOT / "functions").glob("*/app.py"))
LAYER_PACKAGE = REPO_ROOT / "layers" / "lambdagraph" / "lambdagraph"
ENTRY_MODULES = frozenset({"lambdagraph.wiring", "lambdagraph.entry", "lambdagraph.errors"})
DEVELOPMENT_ONLY = ("lambdagraph_client", "moto", "websockets", "watchfiles")
RELOADERS = ("uvicorn.supervisors", "uvicorn.reload")


def imports_of(path: Path) -> Iterator[tuple[str, list[str]]]:
    """``(module, names)`` for every import statement in ``path`` (names empty for
    ``import x``)."""
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def private_reaches(path: Path) -> list[str]:
    """The imports of ``path`` that reach past a public entry point of ``lambdagraph``."""
    found = []
    for module, names in imports_of(path):
        if module.split(".")[0] != "lambdagraph" or module in ENTRY_MODULES:
            continue
        if module.count(".") != 1:
            found.append(module)
            continue
        exported = set(getattr(importlib.import_module(module), "__all__", ()))
        found += [f"{module}.{name}" for name in names if name not in exported]
    return found


def development_imports(path: Path) -> list[str]:
    """The imports of ``path`` of development-only packages or uvicorn's reloaders."""
    return [
        module
        for module, _ in imports_of(path)
        if module.split(".")[0] in DEVELOPMENT_ONLY or module.startswith(RELOADERS)
    ]


@pytest.mark.parametrize("app", FUNCTIONS, ids=lambda p: p.parent.name)
def test_functions_reach_only_public_entry_points(app: Path) -> None:
    assert private_reaches(app) == []


def test_the_check_sees_a_private_import(tmp_path: Path) -> None:
    probe = tmp_path / "app.py"
    probe.write_text(
        "from lambdagraph.engine.runs import RunService\n"
        "from lambdagraph.engine import RunService as Public, DurableRuns\n"
        "from lambdagraph.wiring import build_worker\n"
    )
    assert private_reaches(probe) == ["lambdagraph.engine.runs"]


def test_the_layer_source_imports_no_development_only_code() -> None:
    offenders = {
        str(path.relative_to(LAYER_PACKAGE)): found
        for path in sorted(LAYER_PACKAGE.rglob("*.py"))
        if (found := development_imports(path))
    }
    assert offenders == {}


def test_the_layer_source_holds_no_client_package() -> None:
    assert not (LAYER_PACKAGE / "local").exists()
    assert not list(LAYER_PACKAGE.parent.glob("lambdagraph_client*"))
