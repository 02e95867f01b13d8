"""The lambdagraph layer as Lambda gets it, per architecture: unzipped and zipped bytes.

The layer's requirements (``layers/lambdagraph/requirements.txt``, markers evaluated for the
target) are installed with pip for the template's default ``Runtime`` and each
``Architecture`` (``--only-binary=:all:``, the runtime's Python version and every manylinux
platform its glibc loads: ``tests.deploy.build.target_pip_options``), with no bytecode
compiled, as SAM's Python builder unpacks wheels. Next to them goes a copy of the
``lambdagraph`` package, as ``sam build`` copies the layer's ``ContentUri``. The installed
tree is kept under ``.bench-cache/`` (ignored by git) with a stamp of what was asked, so
reruns need no network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lambdagraph_client.local.template import load_template
from tests.bench.venvs import ROOT, PeerUnavailable
from tests.deploy.build import (
    LAMBDA_UNZIPPED_LIMIT,
    build_environment,
    layer_requirements,
    target_pip_options,
    tree_size,
)

CACHE = ROOT / ".bench-cache"
ARCHITECTURES = ("x86_64", "arm64")
PACKAGE = ROOT / "layers" / "lambdagraph"
_STAMP = ".bench-installed"

__all__ = ["ARCHITECTURES", "LAMBDA_UNZIPPED_LIMIT", "LayerSize", "default_runtime", "layer_size"]


def default_runtime() -> str:
    """The template's default ``Runtime`` parameter, e.g. ``python3.14``."""
    return str(load_template(ROOT / "template.yaml")["Parameters"]["Runtime"]["Default"])


@dataclass(frozen=True)
class LayerSize:
    """One layer build's bytes.

    Attributes:
        runtime, architecture: what it was built for.
        unzipped: every file of ``python/`` (dependencies, the package, its requirements).
        zipped: the layer's zip archive (deflate, as ``sam deploy`` uploads it).
        package: the ``lambdagraph`` package's share of ``unzipped``.
        largest: the largest top-level entries of ``python/`` (name, bytes), largest first.
    """

    runtime: str
    architecture: str
    unzipped: int
    zipped: int
    package: int
    largest: list[tuple[str, int]]


def dependencies(runtime: str, architecture: str) -> Path:
    """The layer's dependencies installed for ``runtime`` on ``architecture`` (cached).

    Raises:
        PeerUnavailable: pip could not install them (e.g. no network on the first run).
    """
    directory = CACHE / f"layer-{runtime}-{architecture}"
    target = directory / "python"
    requirements = layer_requirements(runtime, architecture)
    options = target_pip_options(runtime, architecture)
    wanted = "\n".join([*options, *requirements])
    stamp = directory / _STAMP
    if stamp.exists() and stamp.read_text() == wanted:
        return target
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    pinned = directory / "requirements.txt"
    pinned.write_text("\n".join(requirements) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-compile", "--ignore-installed",
         *options, "--target", str(target), "-r", str(pinned)],
        env=build_environment(), capture_output=True, text=True, timeout=900, check=False,
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()] or ["no output"]
        raise PeerUnavailable(f"pip could not install the {architecture} layer: {lines[-1]}")
    stamp.write_text(wanted)
    return target


def _package_files() -> Iterator[tuple[Path, str]]:
    """The package's files and their names inside ``python/`` (no bytecode)."""
    for path in sorted(PACKAGE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            yield path, path.relative_to(PACKAGE).as_posix()


def _layer_files(deps: Path) -> Iterator[tuple[Path, str]]:
    for path in sorted(deps.rglob("*")):
        if path.is_file() and not path.is_symlink():
            yield path, path.relative_to(deps).as_posix()
    yield from _package_files()


def _zipped_bytes(deps: Path) -> int:
    with tempfile.TemporaryDirectory(prefix="bench-layer-") as tmp:
        archive = Path(tmp) / "layer.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path, name in _layer_files(deps):
                zipped.write(path, f"python/{name}")
        return os.path.getsize(archive)


def _largest(deps: Path, count: int = 3) -> list[tuple[str, int]]:
    sizes: dict[str, int] = {}
    for path, name in _layer_files(deps):
        top = name.split("/", 1)[0]
        if top.endswith(".libs"):  # auditwheel's bundled libraries belong to their package
            top = top.removesuffix(".libs")
        sizes[top] = sizes.get(top, 0) + path.stat().st_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def layer_size(architecture: str, runtime: str | None = None) -> LayerSize:
    """The layer's bytes for ``architecture`` (and ``runtime``: the template's default)."""
    runtime = runtime or default_runtime()
    deps = dependencies(runtime, architecture)
    package = sum(path.stat().st_size for path, _ in _package_files())
    return LayerSize(
        runtime, architecture, tree_size(deps) + package, _zipped_bytes(deps), package,
        _largest(deps),
    )
