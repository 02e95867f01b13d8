"""infra/precompile.py: a ``sam build`` output gets bytecode the runtime's Python loads
without its sources' timestamps, naming the paths the code has once deployed."""

from __future__ import annotations

import importlib.util
import marshal
import sys
from pathlib import Path
from types import CodeType

import pytest

from tests.deploy.template import REPO_ROOT

spec = importlib.util.spec_from_file_location("precompile", REPO_ROOT / "infra" / "precompile.py")
assert spec is not None and spec.loader is not None
precompile = importlib.util.module_from_spec(spec)
spec.loader.exec_module(precompile)

TAG = f"cpython-{sys.version_info.major}{sys.version_info.minor}"


def fake_build(root: Path) -> Path:
    """A build directory shaped like SAM's: one layer (``python/``) and one function."""
    package = root / "LambdaGraphLayer" / "python" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "mod.py").write_text("VALUE = 1\n")
    (package / f"_speedups.{TAG}-x86_64-linux-gnu.so").write_bytes(b"\x7fELF")
    function = root / "StreamFunction"
    function.mkdir()
    (function / "app.py").write_text("import pkg.mod\n")
    return root


def code_of(pyc: Path) -> tuple[int, CodeType]:
    """The pyc's flags word and its code object."""
    data = pyc.read_bytes()
    return int.from_bytes(data[4:8], "little"), marshal.loads(data[16:])


def test_every_module_gets_unchecked_bytecode_naming_its_deployed_path(tmp_path: Path) -> None:
    build = fake_build(tmp_path)

    assert precompile.main([str(build)]) == 0

    flags, code = code_of(build / "LambdaGraphLayer/python/pkg/__pycache__" / f"mod.{TAG}.pyc")
    assert flags == 0b01  # hash-based, source not checked: zip timestamps do not matter
    assert code.co_filename == "/opt/python/pkg/mod.py"
    _, app = code_of(build / "StreamFunction/__pycache__" / f"app.{TAG}.pyc")
    assert app.co_filename == "/var/task/app.py"


def test_the_runtime_is_read_from_the_layers_extensions(tmp_path: Path) -> None:
    build = fake_build(tmp_path)

    assert precompile.runtime_version(build) == f"{sys.version_info.major}.{sys.version_info.minor}"


def test_without_that_python_the_build_is_left_as_is_with_a_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    build = fake_build(tmp_path)
    monkeypatch.setattr(precompile, "interpreter", lambda version: None)

    assert precompile.main([str(build)]) == 0

    assert not list(build.rglob("*.pyc"))
    assert "ships without bytecode" in capsys.readouterr().err


def test_no_build_is_an_error(tmp_path: Path) -> None:
    assert precompile.main([str(tmp_path)]) == 1
