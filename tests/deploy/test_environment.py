"""Every environment variable the code reads is set by the template or has a documented
default, and every one the template sets is read."""

from __future__ import annotations

import ast
import re

import pytest

import lambdagraph.settings as settings_module
from lambdagraph.agents.models import MODEL_CHOICES
from lambdagraph.auth import Authenticator, authenticator_from_settings
from lambdagraph.settings import Settings
from tests.deploy.template import (
    document,
    environment,
    functions,
    globals_function,
    package_modules,
    resolved_environment,
)

PREFIX = "LAMBDAGRAPH_"


def settings_variables() -> dict[str, str]:
    """``LAMBDAGRAPH_*`` name → field, derived from the Settings model."""
    return {f"{PREFIX}{name.upper()}": name for name in Settings.model_fields}


def template_variables() -> set[str]:
    names = set(globals_function()["Environment"]["Variables"])
    for function in functions():
        names |= set(environment(function))
    return {n for n in names if n.startswith(PREFIX)}


def test_every_variable_the_template_sets_is_a_setting() -> None:
    assert template_variables() - set(settings_variables()) == set()


def test_every_setting_is_set_by_the_template_or_documented_with_its_default() -> None:
    doc = settings_module.__doc__ or ""
    documented = set(re.findall(rf"^\s+({PREFIX}[A-Z_]+):", doc, flags=re.MULTILINE))
    missing = set(settings_variables()) - template_variables() - documented
    assert missing == set(), (
        f"set these in template.yaml Globals or document them in settings.py: {missing}"
    )


def test_every_documented_variable_exists() -> None:
    doc = settings_module.__doc__ or ""
    documented = set(re.findall(rf"^\s+({PREFIX}[A-Z_]+):", doc, flags=re.MULTILINE))
    assert documented - set(settings_variables()) == set()


def test_package_reads_no_lambdagraph_variable_outside_settings() -> None:
    known = set(settings_variables())
    for path in package_modules():
        if path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for name in re.findall(rf"\b{PREFIX}[A-Z_]+\b", node.value):
                    assert name in known, (
                        f"{path.name} names {name}, which Settings does not define"
                    )


def test_resources_reach_the_code_through_the_environment() -> None:
    variables = globals_function()["Environment"]["Variables"]
    assert variables[f"{PREFIX}APP_TABLE"] == {"Ref": "AppTable"}
    assert variables[f"{PREFIX}CHECKPOINT_TABLE"] == {"Ref": "CheckpointsTable"}
    assert variables[f"{PREFIX}CHECKPOINT_BUCKET"] == {"Ref": "CheckpointsBucket"}
    worker_name = document()["Resources"]["WorkerFunction"]["Properties"]["FunctionName"]
    assert variables[f"{PREFIX}WORKER_FUNCTION"] == worker_name


@pytest.mark.parametrize("function", sorted(functions()))
@pytest.mark.parametrize(
    "parameters",
    [{}, {"Model": "scripted", "CheckpointTtlSeconds": "86400", "LogLevel": "DEBUG"}],
    ids=["defaults", "overrides"],
)
def test_each_function_environment_parses_into_settings(
    function: str, parameters: dict[str, str]
) -> None:
    settings = Settings.from_env(resolved_environment(function, parameters))
    assert settings.app_table == "lg-AppTable"
    assert settings.checkpoint_table == "lg-CheckpointsTable"
    assert settings.checkpoint_bucket == "lg-CheckpointsBucket"
    assert settings.worker_function == "lg-worker"
    assert settings.model == parameters.get("Model", "bedrock")
    assert settings.checkpoint_ttl_seconds == int(parameters.get("CheckpointTtlSeconds", 0))


def test_parameter_choices_match_what_the_code_accepts() -> None:
    parameters = document()["Parameters"]
    assert tuple(parameters["Model"]["AllowedValues"]) == tuple(sorted(MODEL_CHOICES))
    assert parameters["BedrockModelId"]["Default"] == Settings().bedrock_model_id
    # What each mode requires besides itself (a template rule enforces AuthPath for custom).
    required = {"custom": {"AuthPath": "tests.e2e.auth_files.langgraph_auth:auth"}}
    for mode in parameters["AuthMode"]["AllowedValues"]:
        env = resolved_environment("ApiFunction", {"AuthMode": mode, **required.get(mode, {})})
        # Every mode the template offers builds its authenticator from what the template sets.
        assert isinstance(authenticator_from_settings(Settings.from_env(env)), Authenticator)


# Lambda refuses to create a function that sets one of these (its reserved variables).
LAMBDA_RESERVED = {
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
}


@pytest.mark.parametrize("function", sorted(functions()))
def test_no_function_sets_a_reserved_lambda_variable(function: str) -> None:
    assert set(environment(function)) & LAMBDA_RESERVED == set()
