"""Compile the bytecode of a ``sam build`` output, so that cold starts stop compiling it.

SAM's Python builder drops every ``__pycache__`` and ``*.pyc`` when it copies sources and
unpacks wheels without compiling them, and Lambda mounts ``/opt`` and ``/var/task``
read-only: every module a function imports is compiled from source at every cold start
(about 60% of the ``stream`` function's init CPU, README, Benchmarks item 3). This writes
``__pycache__`` next to every ``.py`` of each built function and layer, with the Python of
the layer's runtime, as ``unchecked-hash`` pycs (valid whatever the files' timestamps
become in the zip) whose code objects name the deployed paths (``/opt``, ``/var/task``).

Usage: ``python infra/precompile.py [.aws-sam/build]`` (``make build`` runs it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

_ABI = re.compile(r"\.cpython-3(\d+)-")


def runtime_version(build: Path) -> str | None:
    """``3.X`` of the built layers, read from their compiled extensions' ABI tags."""
    for extension in build.glob("*/python/**/*.cpython-3*.so"):
        found = _ABI.search(extension.name)
        if found:
            return f"3.{found.group(1)}"
    return None


def interpreter(version: str) -> str | None:
    """A Python ``version`` to compile with: this one, or ``python<version>`` on PATH."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == version:
        return sys.executable
    return shutil.which(f"python{version}")


def compile_artifact(python: str, artifact: Path) -> None:
    """Compile every module of one built function or layer, naming its deployed path."""
    deployed = "/opt" if (artifact / "python").is_dir() else "/var/task"
    command = [
        python,
        "-m",
        "compileall",
        "-q",
        "-j",
        "0",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(artifact),
        "-p",
        deployed,
        str(artifact),
    ]
    # A few dependencies ship files that are not valid Python (templates, tests for
    # other versions): compileall reports them and goes on; they are never imported.
    subprocess.run(command, check=False, stdout=subprocess.DEVNULL)


def main(argv: list[str] | None = None) -> int:
    """Compile each artifact under the build directory; 0 also when skipped (with a warning)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", type=Path, default=Path(".aws-sam/build"))
    build = parser.parse_args(argv).build
    version = runtime_version(build)
    if version is None:
        print(f"precompile: no built layer under {build}; run `sam build` first", file=sys.stderr)
        return 1
    python = interpreter(version)
    if python is None:
        print(
            f"precompile: no python{version} on PATH: the layer ships without bytecode and "
            "every cold start compiles it",
            file=sys.stderr,
        )
        return 0
    artifacts = sorted(p for p in build.iterdir() if p.is_dir())
    for artifact in artifacts:
        compile_artifact(python, artifact)
    print(f"precompile: {len(artifacts)} artifacts compiled with Python {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
