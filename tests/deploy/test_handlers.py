"""Every handler the template names exists and imports under the template's environment;
the streaming function's run.sh serves the app the way the Web Adapter expects."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from lambdagraph.auth import Identity
from tests.conftest import EVENTS_DIR
from tests.deploy.entrypoints import (
    current_python,
    free_port,
    probe,
    process_env,
    running_script,
    wait_for_ok,
)
from tests.deploy.template import REPO_ROOT, functions, resolved_environment

PACKAGE_PATH = str(REPO_ROOT / "layers" / "lambdagraph")
PYTHON_FUNCTIONS = sorted(
    name for name, props in functions().items() if props["Handler"] != "run.sh"
)


@pytest.mark.parametrize("function", sorted(functions()))
def test_handler_file_exists(function: str) -> None:
    props = functions()[function]
    code = REPO_ROOT / props["CodeUri"]
    assert code.is_dir()
    handler = props["Handler"]
    if handler == "run.sh":
        assert (code / "run.sh").stat().st_mode & stat.S_IXUSR, "run.sh must be executable"
    else:
        module = handler.rsplit(".", 1)[0]
        assert (code / f"{module.replace('.', '/')}.py").is_file()


# The template's default (jwt with the stack's user pool), and the modes that need no issuer.
MODES = {"defaults": {}, "iam": {"AuthMode": "iam"}, "none": {"AuthMode": "none"}}


def environment_of(function: str, mode: str) -> dict[str, str]:
    """The function's environment in ``mode``, resolved from the template."""
    return resolved_environment(function, MODES[mode])


@pytest.mark.parametrize("mode", sorted(MODES))
@pytest.mark.parametrize("function", PYTHON_FUNCTIONS)
def test_handler_imports_with_the_template_environment(function: str, mode: str) -> None:
    props = functions()[function]
    env = process_env(environment_of(function, mode), python_path=PACKAGE_PATH)
    report = probe(current_python(), REPO_ROOT / props["CodeUri"], props["Handler"], env)
    assert report["callable"] is True
    assert report["package"].startswith(PACKAGE_PATH)


@pytest.mark.parametrize("mode", sorted(MODES))
def test_api_function_answers_an_http_api_event(mode: str) -> None:
    props = functions()["ApiFunction"]
    env = process_env(environment_of("ApiFunction", mode), python_path=PACKAGE_PATH)
    report = probe(
        current_python(),
        REPO_ROOT / props["CodeUri"],
        props["Handler"],
        env,
        EVENTS_DIR / "http_api_ok.json",
    )
    assert report["result"]["statusCode"] == 200
    assert report["result"]["body"] == '{"ok":true}'


def test_authorizer_allows_a_connection_in_auth_mode_none() -> None:
    props = functions()["AuthorizerFunction"]
    env = process_env(
        resolved_environment("AuthorizerFunction", {"AuthMode": "none"}), python_path=PACKAGE_PATH
    )
    report = probe(
        current_python(),
        REPO_ROOT / props["CodeUri"],
        props["Handler"],
        env,
        EVENTS_DIR / "ws_authorizer.json",
    )
    assert report["result"]["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    context = report["result"]["context"]
    assert context["user_id"] == "local" and Identity.from_context(context) == Identity("local")


def test_run_sh_is_valid_bash_and_serves_the_app_on_the_adapter_port() -> None:
    script = REPO_ROOT / functions()["StreamFunction"]["CodeUri"] / "run.sh"
    subprocess.run(["bash", "-n", str(script)], check=True)
    bin_dir = os.path.dirname(current_python())  # run.sh execs `python3`: this venv's
    env = process_env(
        environment_of("StreamFunction", "iam"), python_path=PACKAGE_PATH, bin_dir=bin_dir
    )
    port = free_port()
    with running_script(script, env, port) as process:
        assert wait_for_ok(process, port) == {"ok": True}
