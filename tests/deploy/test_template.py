"""template.yaml is valid CloudFormation, SAM transforms it, and it declares what we ship."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cfnlint.api import lint_file

from lambdagraph.engine.invoker import parse_payload
from tests.deploy.template import (
    TEMPLATE,
    deployed,
    document,
    environment,
    functions,
    globals_function,
    transform,
)

WEBSOCKET_ROUTES = {"$connect", "$disconnect", "$default", "run", "cancel", "subscribe", "ping"}


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_cfn_lint_reports_nothing() -> None:
    matches = lint_file(TEMPLATE)
    assert [str(m) for m in matches] == []


@pytest.mark.parametrize(
    "parameters",
    [
        {},
        {
            "AuthMode": "jwt",
            "JwtAudience": "client-id",
            "JwtIssuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example",
        },
        {"AuthMode": "iam", "CorsAllowOrigins": "https://app.example.com"},
        {
            "Architecture": "arm64",
            "Runtime": "python3.11",
            "WebAdapterLayerArn": "arn:aws:lambda:us-east-1:123456789012:layer:lwa:1",
        },
    ],
    ids=["defaults", "existing-issuer-jwt", "iam-with-cors", "arm64-custom-adapter"],
)
def test_sam_translator_transforms_the_template(parameters: dict[str, str]) -> None:
    template = transform(parameters)
    lambdas = resources_of(template, "AWS::Lambda::Function")
    assert set(lambdas) == set(functions())
    assert resources_of(template, "AWS::Lambda::Url")
    assert not resources_of(template, "AWS::Serverless::Function")


def test_stream_function_runs_the_app_through_the_web_adapter() -> None:
    stream = functions()["StreamFunction"]
    env = environment("StreamFunction")
    assert stream["Handler"] == "run.sh"
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/bootstrap"
    assert env["AWS_LWA_INVOKE_MODE"] == "response_stream"
    assert env["AWS_LWA_READINESS_CHECK_PATH"] == "/ok"
    assert env["AWS_LWA_PORT"] != "8080"
    assert stream["FunctionUrlConfig"]["InvokeMode"] == "RESPONSE_STREAM"
    assert stream["Timeout"] == 900
    adapter = transform()["Resources"]["StreamFunction"]["Properties"]["Layers"]
    assert "LambdaAdapterLayerX86:${WebAdapterLayerVersion}" in str(adapter)
    assert "LambdaAdapterLayerArm64:${WebAdapterLayerVersion}" in str(adapter)
    assert document()["Parameters"]["WebAdapterLayerVersion"]["Default"] == 27


def test_function_url_public_permissions_exist_only_under_their_condition() -> None:
    resources = document()["Resources"]
    public = [
        k
        for k, v in resources.items()
        if v["Type"] == "AWS::Lambda::Permission" and v["Properties"].get("Principal") == "*"
    ]
    assert public and all(resources[k]["Condition"] == "IsPublicFunctionUrl" for k in public)
    assert {resources[k]["Properties"]["Action"] for k in public} == {
        "lambda:InvokeFunctionUrl",
        "lambda:InvokeFunction",
    }


def test_websocket_api_routes_every_action_to_the_ws_function() -> None:
    template = deployed()
    api = resources_of(template, "AWS::ApiGatewayV2::Api")["WebSocketApi"]["Properties"]
    assert api["ProtocolType"] == "WEBSOCKET"
    assert api["RouteSelectionExpression"] == "$request.body.action"
    routes = {
        r["Properties"]["RouteKey"]: r["Properties"]
        for r in resources_of(template, "AWS::ApiGatewayV2::Route").values()
        if r["Properties"]["ApiId"] == {"Ref": "WebSocketApi"}
    }
    assert set(routes) == WEBSOCKET_ROUTES
    assert routes["$connect"]["AuthorizationType"] == "CUSTOM"
    assert all("AuthorizerId" not in p for k, p in routes.items() if k != "$connect")
    integrations = [
        i["Properties"]
        for i in resources_of(template, "AWS::ApiGatewayV2::Integration").values()
        if i["Properties"]["ApiId"] == {"Ref": "WebSocketApi"}
    ]
    assert len(integrations) == len(WEBSOCKET_ROUTES)
    ws_arn = {"Fn::GetAtt": ["WsFunction", "Arn"]}
    assert all(i["IntegrationUri"]["Fn::Sub"][1]["FunctionArn"] == ws_arn for i in integrations)


def test_connect_authorizer_reads_the_token_query_string() -> None:
    authorizers = resources_of(deployed(), "AWS::ApiGatewayV2::Authorizer")
    ws = authorizers["WebSocketApiConnectAuthorizer"]["Properties"]
    assert ws["AuthorizerType"] == "REQUEST"
    assert ws["IdentitySource"] == ["route.request.querystring.token"]
    assert ws["AuthorizerUri"]["Fn::Sub"][1]["AuthArn"] == {
        "Fn::GetAtt": ["AuthorizerFunction", "Arn"]
    }


def test_http_api_integration_is_the_api_function() -> None:
    resources = document()["Resources"]
    assert resources["HttpApiIntegration"]["Properties"]["IntegrationUri"] == {
        "Fn::GetAtt": ["ApiFunction", "Arn"]
    }


def test_worker_retries_once_then_lands_in_a_dead_letter_queue() -> None:
    config = transform()["Resources"]["WorkerFunctionEventInvokeConfig"]["Properties"]
    assert config["MaximumRetryAttempts"] == 1
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == {
        "Fn::GetAtt": ["WorkerDeadLetterQueue", "Arn"]
    }
    assert functions()["WorkerFunction"]["Timeout"] == 900


def test_a_schedule_sends_the_worker_the_thread_expiry_sweep() -> None:
    resources = transform()["Resources"]
    [schedule] = resources_of(transform(), "AWS::Scheduler::Schedule").values()
    target = schedule["Properties"]["Target"]
    assert target["Arn"] == {"Fn::GetAtt": ["WorkerFunction", "Arn"]}
    assert parse_payload(json.loads(target["Input"])) == {"kind": "sweep"}
    assert schedule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    role = resources[target["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    [statement] = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "lambda:InvokeFunction"


def test_layer_is_built_by_sam_for_the_runtime_and_architecture() -> None:
    layer = document()["Resources"]["LambdaGraphLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {
        "BuildMethod": {"Ref": "Runtime"},
        "BuildArchitecture": {"Ref": "Architecture"},
    }
    assert layer["Properties"]["ContentUri"] == "layers/lambdagraph/"
    assert globals_function()["Layers"] == [{"Ref": "LambdaGraphLayer"}]


def test_runtime_defaults_to_the_newest_python_cfn_lint_knows() -> None:
    import json
    from importlib import resources as pkg

    from cfnlint.data import AdditionalSpecs

    lifecycle = json.loads(
        pkg.files(AdditionalSpecs).joinpath("LmbdRuntimeLifecycle.json").read_text()
    )
    newest = max(
        (k for k in lifecycle if k.startswith("python3.")), key=lambda k: int(k.split(".")[1])
    )
    runtime = document()["Parameters"]["Runtime"]
    assert runtime["Default"] == newest
    assert "python3.11" in runtime["AllowedValues"]
    assert globals_function()["Runtime"] == {"Ref": "Runtime"}


def test_tables_have_ttl_point_in_time_recovery_and_are_retained() -> None:
    tables = resources_of(document(), "AWS::DynamoDB::Table")
    assert set(tables) == {"CheckpointsTable", "AppTable"}
    for table in tables.values():
        props = table["Properties"]
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["TimeToLiveSpecification"]["Enabled"] is True
        assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"


def test_bucket_is_encrypted_private_and_has_a_lifecycle() -> None:
    resources = document()["Resources"]
    bucket = resources["CheckpointsBucket"]["Properties"]
    assert bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert all(bucket["PublicAccessBlockConfiguration"].values())
    assert bucket["LifecycleConfiguration"]["Rules"]
    denial = resources["CheckpointsBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert (
        denial["Effect"] == "Deny" and denial["Condition"]["Bool"]["aws:SecureTransport"] is False
    )


def test_outputs_name_every_endpoint_and_table() -> None:
    outputs = document()["Outputs"]
    assert {
        "FunctionUrl",
        "WebSocketUrl",
        "HttpApiUrl",
        "CheckpointsTableName",
        "AppTableName",
    } <= set(outputs)
    assert outputs["FunctionUrl"]["Value"] == {"Fn::GetAtt": ["StreamFunctionUrl", "FunctionUrl"]}
    assert str(outputs["WebSocketUrl"]["Value"]).startswith("{'Fn::Sub': 'wss://${WebSocketApi}")


def test_both_api_stages_are_throttled_by_parameters() -> None:
    stages = resources_of(transform(), "AWS::ApiGatewayV2::Stage")
    assert len(stages) == 2
    for stage in stages.values():
        assert stage["Properties"]["DefaultRouteSettings"] == {
            "ThrottlingRateLimit": {"Ref": "ApiThrottleRateLimit"},
            "ThrottlingBurstLimit": {"Ref": "ApiThrottleBurstLimit"},
        }
