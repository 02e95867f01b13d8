"""IAM: each function gets only the capabilities it uses, each scoped to our resources, and
together they allow every AWS call the package makes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

from tests.deploy.template import PACKAGE, document, functions, package_modules, transform

# What each function may do; reviewed by hand, checked against the template below.
CAPABILITIES = {
    "StreamFunction": {
        "AppTableAccessPolicy",
        "CheckpointStoreAccessPolicy",
        "BedrockInvokePolicy",
        "WorkerInvokePolicy",
        "CronSchedulesPolicy",  # crons' EventBridge Scheduler schedules
    },
    "ApiFunction": {
        "AppTableAccessPolicy",
        "CheckpointStoreAccessPolicy",
        "BedrockInvokePolicy",
        "WorkerInvokePolicy",
        "CronSchedulesPolicy",  # crons' EventBridge Scheduler schedules
    },
    "WsFunction": {
        "AppTableAccessPolicy",
        "RunInputReadPolicy",
        "CheckpointReadPolicy",  # in-band state.get / state.listCheckpoints
        "WorkerInvokePolicy",
        "WebSocketConnectionsPolicy",
    },
    "AuthorizerFunction": set(),
    "WorkerFunction": {
        "AppTableAccessPolicy",
        "CheckpointStoreAccessPolicy",
        "BedrockInvokePolicy",
        "WorkerInvokePolicy",
        "WebSocketConnectionsPolicy",
    },
}

# API operations whose IAM action is not simply service:OperationName.
SPECIAL_ACTIONS = {
    (
        "dynamodb",
        "TransactWriteItems",
    ): set(),  # authorised per item: Put/Update/Delete/ConditionCheck
    ("s3", "ListObjectsV2"): {"s3:ListBucket"},
    ("s3", "CopyObject"): {"s3:GetObject", "s3:PutObject"},
    ("s3", "DeleteObjects"): {"s3:DeleteObject"},
    ("s3", "HeadObject"): {"s3:GetObject"},
    ("lambda", "Invoke"): {"lambda:InvokeFunction"},
}
SERVICES = {
    "dynamodb": "dynamodb",
    "s3": "s3",
    "lambda": "lambda",
    "apigatewaymanagementapi": "execute-api",
    "scheduler": "scheduler",
}


def managed_policies() -> dict[str, list[dict[str, Any]]]:
    """Statements of each ``AWS::IAM::ManagedPolicy`` in the template."""
    return {
        name: resource["Properties"]["PolicyDocument"]["Statement"]
        for name, resource in document()["Resources"].items()
        if resource["Type"] == "AWS::IAM::ManagedPolicy"
    }


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def attached(function: str) -> set[str]:
    role = transform()["Resources"][f"{function}Role"]["Properties"]
    refs = {arn["Ref"] for arn in role["ManagedPolicyArns"] if isinstance(arn, dict)}
    return refs


def allowed_actions(policy: str) -> set[str]:
    return {
        a
        for s in managed_policies()[policy]
        if s["Effect"] == "Allow"
        for a in as_list(s["Action"])
    }


@pytest.mark.parametrize("function", sorted(CAPABILITIES))
def test_each_function_attaches_only_its_capabilities(function: str) -> None:
    assert attached(function) == CAPABILITIES[function]


def test_capability_table_covers_every_function() -> None:
    assert set(CAPABILITIES) == set(functions())


def test_roles_have_no_inline_statements_beyond_sam_destinations() -> None:
    for function in functions():
        role = transform()["Resources"][f"{function}Role"]["Properties"]
        for policy in role.get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement["Action"] == "sqs:SendMessage" and function == "WorkerFunction"
                assert statement["Resource"] == {"Fn::GetAtt": ["WorkerDeadLetterQueue", "Arn"]}


def test_no_statement_grants_data_actions_on_every_resource() -> None:
    for name, statements in managed_policies().items():
        for statement in statements:
            for resource in as_list(statement["Resource"]):
                assert resource != "*", f"{name} grants {statement['Action']} on *"
            assert not any(a.endswith(":*") or a == "*" for a in as_list(statement["Action"])), name


def test_connections_invoke_and_bedrock_are_scoped_to_our_resources() -> None:
    policies = managed_policies()
    (connections,) = policies["WebSocketConnectionsPolicy"]
    assert connections["Action"] == "execute-api:ManageConnections"
    assert "${WebSocketApi}/ws/" in connections["Resource"]["Fn::Sub"]
    (invoke,) = policies["WorkerInvokePolicy"]
    assert invoke["Action"] == "lambda:InvokeFunction"
    assert invoke["Resource"]["Fn::Sub"].endswith(":function:${AWS::StackName}-worker")
    assert document()["Resources"]["WorkerFunction"]["Properties"]["FunctionName"] == {
        "Fn::Sub": "${AWS::StackName}-worker"
    }
    for statement in policies["BedrockInvokePolicy"]:
        assert set(as_list(statement["Action"])) == {
            "bedrock:InvokeModel",
            "bedrock:InvokeModelWithResponseStream",
        }
        scoped = "${BedrockModelId}" in str(statement["Resource"]) or "${BedrockModelId}" in str(
            statement.get("Condition")
        )
        assert scoped


@lru_cache(maxsize=1)
def operation_names() -> dict[str, dict[str, str]]:
    """Per service: snake_case method name → API operation name, from botocore's models."""
    session = botocore.session.get_session()
    return {
        service: {xform_name(op): op for op in session.get_service_model(service).operation_names}
        for service in SERVICES
    }


def calls_in(path: Path) -> Iterator[tuple[str, str]]:
    """``(service, Operation)`` pairs a module may call: client methods and planned calls."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Attribute):
            names.append(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            names.append(node.value)  # the saver's plans name operations as strings
        for name in names:
            for service, ops in operation_names().items():
                if name in ops:
                    yield service, ops[name]


def required_actions(paths: list[Path]) -> dict[str, set[str]]:
    needed: dict[str, set[str]] = {}
    for path in paths:
        for service, op in calls_in(path):
            actions = SPECIAL_ACTIONS.get((service, op), {f"{SERVICES[service]}:{op}"})
            if service == "apigatewaymanagementapi":
                actions = {"execute-api:ManageConnections"}
            needed.setdefault(service, set()).update(actions)
    return needed


def test_checkpoint_store_policy_allows_every_call_the_saver_makes() -> None:
    needed = required_actions(package_modules("store/checkpoint"))
    allowed = allowed_actions("CheckpointStoreAccessPolicy")
    assert needed["dynamodb"] and needed["s3"]
    assert needed["dynamodb"] | needed["s3"] <= allowed


def test_app_table_policy_allows_every_call_the_rest_of_the_package_makes() -> None:
    saver = set(package_modules("store/checkpoint"))
    rest = [p for p in package_modules() if p not in saver]
    needed = required_actions(rest)
    assert needed["dynamodb"] <= allowed_actions("AppTableAccessPolicy")
    assert needed.get("lambda", set()) <= allowed_actions("WorkerInvokePolicy")
    assert needed.get("apigatewaymanagementapi", set()) <= allowed_actions(
        "WebSocketConnectionsPolicy"
    )
    assert needed["scheduler"] <= allowed_actions("CronSchedulesPolicy")
    touching_s3 = {p.relative_to(PACKAGE).as_posix() for p in rest if "s3" in required_actions([p])}
    assert touching_s3 == {"store/table.py"}, "only the saver and the run-input offload touch S3"


def test_run_input_is_the_only_s3_outside_the_saver_and_every_function_reading_runs_may() -> None:
    # The app store offloads run kwargs too large for an item to the checkpoints bucket.
    table = [p for p in package_modules("store") if p.name == "table.py"]
    needed = required_actions(table)["s3"]
    assert needed == {"s3:GetObject", "s3:PutObject"}
    assert needed <= allowed_actions("CheckpointStoreAccessPolicy")
    assert allowed_actions("RunInputReadPolicy") == {"s3:GetObject"}
    for function, capabilities in CAPABILITIES.items():
        if "AppTableAccessPolicy" in capabilities:
            readable = capabilities & {"CheckpointStoreAccessPolicy", "RunInputReadPolicy"}
            assert readable, f"{function} reads runs but cannot read their offloaded input"


def test_the_checkpoint_read_policy_only_reads_what_the_store_policy_covers() -> None:
    reads = allowed_actions("CheckpointReadPolicy")
    assert reads == {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem", "s3:GetObject"}
    assert reads <= allowed_actions("CheckpointStoreAccessPolicy")


def test_cron_schedules_invoke_only_the_worker_through_a_role_only_scheduler_assumes() -> None:
    resources = document()["Resources"]
    role = resources["CronSchedulerRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert role["ManagedPolicyArns"] == [{"Ref": "WorkerInvokePolicy"}]
    schedules, pass_role = managed_policies()["CronSchedulesPolicy"]
    assert "schedule/${CronScheduleGroup}/*" in schedules["Resource"]["Fn::Sub"]
    assert pass_role["Action"] == "iam:PassRole"
    assert pass_role["Resource"] == {"Fn::GetAtt": ["CronSchedulerRole", "Arn"]}
    assert pass_role["Condition"] == {
        "StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}
    }
