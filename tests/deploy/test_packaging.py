"""``sam build`` (no container) produces self-contained artifacts: in a clean virtualenv
holding only the build output, every handler imports and the app answers ``/ok``; the
layer's compiled wheels fit the runtime and architecture; everything fits Lambda's limit.

Only Python 3.11 exists on these machines, so the build runs with ``Runtime=python3.11``
(``sam build`` insists on a local interpreter of the runtime's version); the default
runtime's wheels are checked by resolving them for that runtime's platforms instead.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import EVENTS_DIR
from tests.deploy.build import (
    LAMBDA_UNZIPPED_LIMIT,
    MACHINE,
    Build,
    build_environment,
    elf_machines,
    resolve_wheels,
    sam_build,
    sam_executable,
    supported_tags,
    tree_size,
    wheel_file_tags,
    wheel_tags,
)
from tests.deploy.entrypoints import (
    FAKE_AWS,
    free_port,
    probe,
    process_env,
    running_script,
    wait_for_ok,
)
from tests.deploy.template import TEMPLATE, document, functions, resolved_environment
from tests.unit.test_layering import development_imports

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
# The built artifacts must import on their own whatever the mode; iam needs no issuer to
# reach (the template's default, jwt, is checked by test_handlers once it is implemented).
IAM = {"AuthMode": "iam"}

BUILD_RUNTIME = "python3.11"
ARCHITECTURES = ("x86_64", "arm64")
DEFAULT_RUNTIME = document()["Parameters"]["Runtime"]["Default"]
# Room left for the Lambda Web Adapter layer (a few MB) next to ours on the stream function.
ADAPTER_ALLOWANCE = 20 * 1024 * 1024


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    """The template built for python3.11 on both architectures, side by side."""
    sam_executable()
    root = tmp_path_factory.mktemp("sam")

    def build(architecture: str) -> Build:
        directory = root / architecture / "build"
        directory.parent.mkdir()
        done = sam_build(directory, runtime=BUILD_RUNTIME, architecture=architecture)
        assert done.returncode == 0, (
            f"sam build ({architecture}) failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
        return Build(directory, BUILD_RUNTIME, architecture, done.stdout + done.stderr)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(zip(ARCHITECTURES, pool.map(build, ARCHITECTURES), strict=True))


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtualenv with nothing installed: only the build output will be on its path."""
    venv = tmp_path_factory.mktemp("clean") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    return venv / "bin" / "python"


def layer_dir(build: Build) -> Path:
    return build.directory / "LambdaGraphLayer" / "python"


def test_sam_validate_lint_passes() -> None:
    done = subprocess.run(
        [
            str(sam_executable()),
            "validate",
            "--lint",
            "--template-file",
            str(TEMPLATE),
            "--region",
            "us-east-1",
        ],
        env={**build_environment(), **FAKE_AWS},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is a valid SAM Template" in done.stdout + done.stderr


def test_sam_build_succeeds_without_a_container(builds: dict[str, Build]) -> None:
    for build in builds.values():
        assert "Build Succeeded" in build.log
        assert (layer_dir(build) / "lambdagraph" / "__init__.py").is_file()
        assert not list(layer_dir(build).glob("lambdagraph/**/__pycache__"))
        # Development-only packages never reach Lambda.
        assert not list(layer_dir(build).glob("moto*")) and not list(
            layer_dir(build).glob("pytest*")
        )
        for function in functions():
            assert (build.directory / function).is_dir()


def test_built_layer_ships_no_client_or_development_code(builds: dict[str, Build]) -> None:
    for build in builds.values():
        package = layer_dir(build) / "lambdagraph"
        # (websockets itself may ship, as a dependency of langgraph's SDK; no module of ours
        # imports it.)
        assert not list(layer_dir(build).glob("lambdagraph_client*"))
        offenders = {
            str(path.relative_to(package)): found
            for path in sorted(package.rglob("*.py"))
            if (found := development_imports(path))
        }
        assert offenders == {}


@pytest.mark.parametrize(
    "function", sorted(n for n, p in functions().items() if p["Handler"] != "run.sh")
)
def test_handler_imports_from_the_build_alone(
    builds: dict[str, Build], clean_python: Path, function: str
) -> None:
    build = builds["x86_64"]
    env = process_env(resolved_environment(function, IAM), python_path=str(layer_dir(build)))
    report = probe(
        str(clean_python), build.directory / function, functions()[function]["Handler"], env
    )
    assert report["callable"] is True
    assert report["package"].startswith(str(layer_dir(build)))


def test_built_api_function_answers_ok(builds: dict[str, Build], clean_python: Path) -> None:
    build = builds["x86_64"]
    env = process_env(resolved_environment("ApiFunction", IAM), python_path=str(layer_dir(build)))
    report = probe(
        str(clean_python),
        build.directory / "ApiFunction",
        "app.handler",
        env,
        EVENTS_DIR / "http_api_ok.json",
    )
    assert (report["result"]["statusCode"], report["result"]["body"]) == (200, '{"ok":true}')


def test_built_run_sh_serves_the_app(builds: dict[str, Build], clean_python: Path) -> None:
    build = builds["x86_64"]
    script = build.directory / "StreamFunction" / "run.sh"
    assert script.stat().st_mode & 0o111, "the Web Adapter executes run.sh: it must stay executable"
    env = process_env(
        resolved_environment("StreamFunction", IAM),
        python_path=str(layer_dir(build)),
        bin_dir=str(clean_python.parent),
    )
    port = free_port()
    with running_script(script, env, port) as process:
        assert wait_for_ok(process, port) == {"ok": True}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_layer_wheels_fit_the_runtime_and_architecture(
    builds: dict[str, Build], architecture: str
) -> None:
    build = builds[architecture]
    supported = supported_tags(build.runtime, architecture)
    misfits = [name for name, tags in wheel_tags(layer_dir(build)) if not tags & supported]
    assert misfits == []
    machines = set(elf_machines(layer_dir(build)).values())
    assert machines == {MACHINE[architecture]}


@pytest.mark.parametrize("architecture", ARCHITECTURES)
def test_default_runtime_has_wheels_for_every_dependency(tmp_path: Path, architecture: str) -> None:
    wheels = resolve_wheels(DEFAULT_RUNTIME, architecture, tmp_path / "report.json")
    supported = supported_tags(DEFAULT_RUNTIME, architecture)
    assert [w for w in wheels if not wheel_file_tags(w) & supported] == []
    assert any(w.startswith("pydantic_core") for w in wheels)


def test_artifacts_fit_lambdas_unzipped_limit(
    builds: dict[str, Build], record_property: Callable[[str, object], None]
) -> None:
    for build in builds.values():
        layer = tree_size(build.directory / "LambdaGraphLayer")
        record_property(f"layer_{build.architecture}_bytes", layer)
        for function in functions():
            code = tree_size(build.directory / function)
            record_property(f"{function}_{build.architecture}_bytes", code)
            assert code + layer + ADAPTER_ALLOWANCE < LAMBDA_UNZIPPED_LIMIT
