"""``sam build`` without a container, and what to check in its output.

SAM CLI lives in its own virtualenv (``.venv-sam``, from ``infra/requirements-sam.txt``;
``make sam`` or the first packaging test creates it). Its Python builder installs the
layer's requirements with pip, keeping only wheels whose tags fit the Lambda runtime's
ABI, glibc and the ``Architecture`` (it downloads ``manylinux`` wheels for the target when
pip first picked host ones), so the checks below read those tags and ELF headers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, parse_tag
from packaging.utils import parse_wheel_filename

from tests.deploy.template import REPO_ROOT

SAM_VENV = REPO_ROOT / ".venv-sam"
SAM_REQUIREMENTS = REPO_ROOT / "infra" / "requirements-sam.txt"
LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "lambdagraph" / "requirements.txt"
# Lambda's Python runtimes: python3.11 runs on Amazon Linux 2 (glibc 2.26), 3.12+ on
# Amazon Linux 2023 (glibc 2.34).
RUNTIME_GLIBC = {"python3.11": 26, "python3.12": 34, "python3.13": 34, "python3.14": 34}
MACHINE = {"x86_64": "x86_64", "arm64": "aarch64"}
ELF_MACHINE = {62: "x86_64", 183: "aarch64"}
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024


def sam_executable() -> Path:
    """``.venv-sam/bin/sam``, installing SAM CLI there first if needed."""
    sam = SAM_VENV / "bin" / "sam"
    if not sam.exists():
        subprocess.run([sys.executable, "-m", "venv", str(SAM_VENV)], check=True)
        pip = [str(SAM_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        subprocess.run([*pip, "-r", str(SAM_REQUIREMENTS)], check=True, timeout=900)
    return sam


def build_environment() -> dict[str, str]:
    """The caller's environment for ``sam build``, minus local wheel directories.

    pip config files and ``PIP_FIND_LINKS`` may point at host-built wheels; SAM's builder
    re-checks each of those one by one (slow) and cannot use host-only platforms anyway.
    ``PIP_INDEX_URL`` (a mirror) is kept.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PIP_") or k in ("PIP_INDEX_URL", "PIP_CERT")
    }
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        SAM_CLI_TELEMETRY="0",
        # The builder runs `python -m pip` with the first Python of the runtime's version.
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    return env


def sam_build(
    build_dir: Path, *, runtime: str, architecture: str
) -> subprocess.CompletedProcess[str]:
    """``sam build`` of the repository's template into ``build_dir`` (no container)."""
    command = [
        str(sam_executable()),
        "build",
        "--template-file",
        str(REPO_ROOT / "template.yaml"),
        "--build-dir",
        str(build_dir),
        "--parameter-overrides",
        f"Runtime={runtime}",
        f"Architecture={architecture}",
    ]
    return subprocess.run(
        command,
        cwd=build_dir.parent,
        env=build_environment(),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def supported_tags(runtime: str, architecture: str) -> set[Tag]:
    """Every wheel tag a Lambda runtime on this architecture can load."""
    minor = int(runtime.removeprefix("python3."))
    machine = MACHINE[architecture]
    glibc = RUNTIME_GLIBC[runtime]
    platforms = [f"manylinux_2_{m}_{machine}" for m in range(glibc, 4, -1)]
    platforms += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}"]
    version = (3, minor)
    tags = set(cpython_tags(version, abis=[f"cp3{minor}", "abi3", "none"], platforms=platforms))
    return tags | set(compatible_tags(version, f"cp3{minor}", platforms=platforms))


def wheel_tags(layer_python: Path) -> Iterator[tuple[str, set[Tag]]]:
    """``(distribution, tags)`` for each wheel installed in a layer's ``python/``."""
    for wheel in sorted(layer_python.glob("*.dist-info/WHEEL")):
        tags: set[Tag] = set()
        for line in wheel.read_text().splitlines():
            if line.startswith("Tag:"):
                tags |= set(parse_tag(line.split(":", 1)[1].strip()))
        yield wheel.parent.name, tags


def elf_machines(root: Path) -> dict[Path, str]:
    """The CPU each compiled extension module (``*.so``) under ``root`` was built for."""
    found = {}
    for library in root.rglob("*.so*"):
        if not library.is_file():
            continue
        header = library.read_bytes()[:20]
        if header[:4] != b"\x7fELF":
            continue
        found[library] = ELF_MACHINE.get(int.from_bytes(header[18:20], "little"), "other")
    return found


def layer_requirements(runtime: str, architecture: str) -> list[str]:
    """The layer's requirements with their markers evaluated for the target (pip would use
    the host's), one requirement string each."""
    minor = runtime.removeprefix("python3.")
    target = {
        "python_version": f"3.{minor}",
        "python_full_version": f"3.{minor}.0",
        "platform_machine": MACHINE[architecture],
        "sys_platform": "linux",
    }
    lines = []
    for line in LAYER_REQUIREMENTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(target):
            requirement.marker = None
            lines.append(str(requirement))
    return lines


def target_pip_options(runtime: str, architecture: str) -> list[str]:
    """pip options choosing wheels for a Lambda runtime and architecture, not this host:
    binary only, the runtime's Python version and every manylinux platform its glibc loads."""
    glibc = RUNTIME_GLIBC[runtime]
    platforms = [f"manylinux_2_{m}_{MACHINE[architecture]}" for m in range(glibc, 16, -1)]
    platforms.append(f"manylinux2014_{MACHINE[architecture]}")
    options = ["--only-binary=:all:", "--python-version", runtime.removeprefix("python")]
    for platform in platforms:
        options += ["--platform", platform]
    return options


def resolve_wheels(runtime: str, architecture: str, report: Path) -> list[str]:
    """Resolve the layer's requirements to wheels for a runtime we cannot run here.

    ``pip install --dry-run --only-binary=:all:`` with the target's platforms and Python
    version (:func:`target_pip_options`) over :func:`layer_requirements`.
    Returns the chosen wheel file names.
    """
    pinned = report.with_suffix(".txt")
    pinned.write_text("\n".join(layer_requirements(runtime, architecture)) + "\n")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--dry-run",
        "--quiet",
        "--ignore-installed",
        *target_pip_options(runtime, architecture),
        "--target",
        str(report.parent / "unused"),
        "--report",
        str(report),
        "-r",
        str(pinned),
    ]
    done = subprocess.run(
        command, env=build_environment(), capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"no wheels for {runtime}/{architecture}:\n{done.stderr[-3000:]}"
    installs = json.loads(report.read_text())["install"]
    return [item["download_info"]["url"].rsplit("/", 1)[1] for item in installs]


def wheel_file_tags(filename: str) -> set[Tag]:
    return set(parse_wheel_filename(filename)[3])


def tree_size(root: Path) -> int:
    """Bytes of every file under ``root``: the unzipped size Lambda counts."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


@dataclass(frozen=True)
class Build:
    """One finished ``sam build``."""

    directory: Path
    runtime: str
    architecture: str
    log: str
