"""Read ``template.yaml``: the one place table schemas and function settings are declared.

The local stack and the tests take table definitions and function timeouts from here, so the
SAM template stays the single source of truth for both the cloud and this machine.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from lambdagraph.errors import ConfigurationError

_REPO_ROOT = Path(__file__).resolve().parents[3]


def template_path() -> Path:
    """Where ``template.yaml`` is: ``$LAMBDAGRAPH_TEMPLATE`` or the repository root."""
    return Path(os.environ.get("LAMBDAGRAPH_TEMPLATE", _REPO_ROOT / "template.yaml"))


class _CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form tags (``!Ref``, ``!Sub`` ...)."""


def _construct_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CloudFormationLoader.add_multi_constructor("!", _construct_tag)


@lru_cache(maxsize=4)
def load_template(path: Path | None = None) -> dict[str, Any]:
    """Parse the SAM template, intrinsic functions kept as ``{"Ref": ...}`` dicts."""
    path = path or template_path()
    if not path.exists():
        raise ConfigurationError(f"SAM template not found at {path}; set LAMBDAGRAPH_TEMPLATE")
    with path.open() as stream:
        document = yaml.load(stream, Loader=_CloudFormationLoader)
    if not isinstance(document, dict):
        raise ConfigurationError(f"{path} is not a YAML mapping")
    return document


def resources(kind: str, path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Resources of one CloudFormation type, by logical id."""
    found = load_template(path).get("Resources", {})
    return {name: res for name, res in found.items() if res.get("Type") == kind}


def table_definitions(path: Path | None = None) -> dict[str, dict[str, Any]]:
    """Properties of every ``AWS::DynamoDB::Table``, by logical id."""
    tables = resources("AWS::DynamoDB::Table", path)
    return {name: res["Properties"] for name, res in tables.items()}


_SAM_DEFAULT_TIMEOUT = 3


def function_timeout(logical_id: str, path: Path | None = None) -> int:
    """Seconds a function may run: its ``Timeout``, else ``Globals.Function.Timeout``, else 3."""
    document = load_template(path)
    function = document.get("Resources", {}).get(logical_id)
    if function is None or function.get("Type") != "AWS::Serverless::Function":
        raise ConfigurationError(
            f"{logical_id} is not an AWS::Serverless::Function in the template"
        )
    timeout = function.get("Properties", {}).get("Timeout")
    if timeout is None:
        timeout = document.get("Globals", {}).get("Function", {}).get("Timeout")
    return int(timeout) if timeout is not None else _SAM_DEFAULT_TIMEOUT
