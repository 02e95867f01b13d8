"""Read ``template.yaml`` the way SAM and CloudFormation do, without AWS.

The raw document comes from ``lambdagraph_client.local.template`` (the loader the local stack uses);
:func:`transform` runs the SAM translator on it with local code paths swapped for S3 URIs
(as ``sam package`` would) and a managed-policy loader that needs no IAM call.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from samtranslator.translator.transform import transform as sam_transform
from samtranslator.yaml_helper import yaml_parse

from lambdagraph_client.local.template import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
FUNCTION_TYPE = "AWS::Serverless::Function"


def document() -> dict[str, Any]:
    """The template as the local stack reads it (intrinsics as ``{"Ref": ...}`` dicts)."""
    return load_template(TEMPLATE)


def functions() -> dict[str, dict[str, Any]]:
    """Properties of every ``AWS::Serverless::Function``, by logical id."""
    return {
        name: resource.get("Properties", {})
        for name, resource in document()["Resources"].items()
        if resource["Type"] == FUNCTION_TYPE
    }


def websocket_routes() -> set[str]:
    """Route keys of the WebSocket API: SAM's ``Routes`` and the ``$connect`` route declared
    beside it (its auth depends on ``AuthMode``)."""
    resources = document()["Resources"]
    keys = set(resources["WebSocketApi"]["Properties"]["Routes"])
    keys |= {
        r["Properties"]["RouteKey"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGatewayV2::Route"
        and r["Properties"]["ApiId"] == {"Ref": "WebSocketApi"}
    }
    return keys


def globals_function() -> dict[str, Any]:
    """``Globals.Function``: what every function inherits."""
    return document().get("Globals", {}).get("Function", {})  # type: ignore[no-any-return]


def environment(logical_id: str) -> dict[str, Any]:
    """A function's environment variables: the globals, then its own (SAM merges them so)."""
    variables = dict(globals_function().get("Environment", {}).get("Variables", {}))
    own = functions()[logical_id].get("Environment", {}).get("Variables", {})
    variables.update(own)
    return variables


def parameter_defaults() -> dict[str, Any]:
    """Each template parameter's default value."""
    return {name: spec.get("Default") for name, spec in document()["Parameters"].items()}


class _NoManagedPolicies:
    """The translator's managed-policy loader, minus the IAM ``ListPolicies`` call."""

    def load(self) -> dict[str, str]:
        return {}


@lru_cache(maxsize=8)
def _transformed(parameters: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    sam = yaml_parse(TEMPLATE.read_text())
    for resource in sam["Resources"].values():
        properties = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str):
                properties[key] = f"s3://artifacts/{properties[key].strip('/')}.zip"
    return sam_transform(sam, dict(parameters), _NoManagedPolicies())  # type: ignore[no-any-return]


def transform(parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The CloudFormation template SAM produces for these parameter values."""
    return copy.deepcopy(_transformed(tuple(sorted((parameters or {}).items()))))


def resolve(value: Any, parameters: Mapping[str, Any] | None = None, stack: str = "lg") -> Any:
    """Evaluate the intrinsics our environment variables use, as CloudFormation would.

    Parameters take their defaults unless given; a resource's ``Ref`` becomes a
    plausible physical name (``lg-AppTable``), enough to build settings from.
    """
    values = {**parameter_defaults(), **(parameters or {})}
    pseudo = {
        "AWS::StackName": stack,
        "AWS::Region": "us-east-1",
        "AWS::AccountId": "123456789012",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }

    def name_of(ref: str) -> str:
        if ref in pseudo:
            return pseudo[ref]
        if ref in values:
            return str(values[ref])
        return f"{stack}-{ref}"

    if isinstance(value, dict) and "Fn::If" in value:
        condition, when_true, when_false = value["Fn::If"]
        chosen = when_true if holds(condition, values) else when_false
        return resolve(chosen, parameters, stack)
    if isinstance(value, dict) and "Ref" in value:
        return name_of(value["Ref"])
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"{stack}-{resource}.{attribute}"  # e.g. a role's Arn: a plausible string
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"]
        for ref in re.findall(r"\$\{([^}]+)\}", text):
            text = text.replace("${" + ref + "}", name_of(ref))
        return text
    if isinstance(value, dict):
        raise NotImplementedError(f"intrinsic {value} in an environment variable")
    return str(value)


def holds(condition: str, parameters: Mapping[str, Any] | None = None) -> bool:
    """Whether a template condition holds for these parameter values (defaults otherwise)."""
    values = {**parameter_defaults(), **(parameters or {})}
    return _holds(document()["Conditions"], condition, values)


def _holds(conditions: Mapping[str, Any], condition: str, values: Mapping[str, Any]) -> bool:
    def evaluate(expression: Any) -> Any:
        if not isinstance(expression, dict):
            return expression
        [(function, arguments)] = expression.items()
        if function == "Ref":
            return str(values[arguments])
        if function in ("Condition", "Fn::Condition"):
            return evaluate(conditions[arguments])
        if function == "Fn::Equals":
            return str(evaluate(arguments[0])) == str(evaluate(arguments[1]))
        if function == "Fn::Not":
            return not evaluate(arguments[0])
        if function == "Fn::And":
            return all(evaluate(a) for a in arguments)
        if function == "Fn::Or":
            return any(evaluate(a) for a in arguments)
        raise NotImplementedError(f"{function} in a condition")

    return bool(evaluate(conditions[condition]))


_NO_VALUE = object()


def deployed(parameters: Mapping[str, str] | None = None) -> dict[str, Any]:
    """What CloudFormation creates from the translated template for these parameters.

    Conditions are evaluated as CloudFormation does: a resource or output whose condition
    is false is left out, ``Fn::If`` takes its branch, and ``AWS::NoValue`` removes the
    property or list item it stands for. Other intrinsics stay as they are.
    """
    template = transform(parameters)
    values = {
        **{name: spec.get("Default") for name, spec in template["Parameters"].items()},
        **(parameters or {}),
    }
    conditions = template.get("Conditions", {})

    def choose(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, when_true, when_false = node["Fn::If"]
                return choose(when_true if _holds(conditions, name, values) else when_false)
            if node == {"Ref": "AWS::NoValue"}:
                return _NO_VALUE
            chosen = {k: choose(v) for k, v in node.items()}
            return {k: v for k, v in chosen.items() if v is not _NO_VALUE}
        if isinstance(node, list):
            return [v for v in (choose(item) for item in node) if v is not _NO_VALUE]
        return node

    for section in ("Resources", "Outputs"):
        template[section] = {
            name: choose(body)
            for name, body in template.get(section, {}).items()
            if "Condition" not in body or _holds(conditions, body["Condition"], values)
        }
    return template


def resolved_environment(
    logical_id: str, parameters: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """A function's environment as Lambda would set it for a stack with these parameters."""
    return {k: resolve(v, parameters) for k, v in environment(logical_id).items()}


PACKAGE = REPO_ROOT / "layers" / "lambdagraph" / "lambdagraph"
# Code that only runs on a developer's machine (embedded moto, table creation, the CLI).
LOCAL_ONLY = ("local/", "cli.py", "chat.py")


def package_modules(under: str = "") -> list[Path]:
    """Modules of the package that can run in Lambda (``under`` a subpackage path)."""
    root = PACKAGE / under
    return [p for p in root.rglob("*.py") if not str(p.relative_to(PACKAGE)).startswith(LOCAL_ONLY)]
