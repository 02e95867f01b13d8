"""infra/smoke.py: its options, how it reads a stack, its SigV4 signing, and every check
passing against the local stack (CloudFormation stubbed to point at it)."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import httpx
import pytest
from botocore.stub import Stubber

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.deploy.template import REPO_ROOT, document
from tests.e2e.conftest import stack_settings


def load_smoke() -> ModuleType:
    # As `python infra/smoke.py` runs it: its directory first on the path (smoke_auth).
    if str(REPO_ROOT / "infra") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "infra"))
    spec = importlib.util.spec_from_file_location(
        "lambdagraph_smoke", REPO_ROOT / "infra" / "smoke.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module


smoke = load_smoke()


def describe(outputs: dict[str, str], status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return {
        "Stacks": [
            {
                "StackName": "lg",
                "CreationTime": "2026-11-21T06:00:00Z",
                "StackStatus": status,
                "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
            }
        ]
    }


def stubbed_cloudformation(response: dict[str, Any] | None = None, error: str | None = None) -> Any:
    client = boto3.client("cloudformation", region_name="us-east-1")
    stubber = Stubber(client)
    if error:
        stubber.add_client_error(
            "describe_stacks", "ValidationError", error, expected_params={"StackName": "lg"}
        )
    else:
        stubber.add_response("describe_stacks", response, expected_params={"StackName": "lg"})
    stubber.activate()
    return client


def test_arguments_have_safe_defaults() -> None:
    args = smoke.parse_args(["--stack", "lg"])
    assert (args.stack, args.sign, args.token, args.skip_websocket) == ("lg", "auto", None, False)
    assert args.auth_checks == "auto"
    with pytest.raises(SystemExit):
        smoke.parse_args([])


def test_outputs_are_read_from_the_stack() -> None:
    outputs = {
        "FunctionUrl": "https://abc.lambda-url.us-east-1.on.aws/",
        "WebSocketUrl": "wss://w/ws",
        "HttpApiUrl": "https://h",
        "AppTableName": "lg-app",
    }
    read = smoke.stack_outputs(stubbed_cloudformation(describe(outputs)), "lg")
    endpoints = smoke.StackEndpoints.from_outputs(read)
    assert endpoints.function_url == "https://abc.lambda-url.us-east-1.on.aws"
    assert endpoints.websocket_url == "wss://w/ws"


def test_the_template_declares_every_output_the_smoke_test_reads() -> None:
    assert set(smoke.REQUIRED_OUTPUTS) <= set(document()["Outputs"])


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (None, "Stack with id lg does not exist", "does not exist"),
        (describe({"FunctionUrl": "x"}, status="ROLLBACK_COMPLETE"), None, "ROLLBACK_COMPLETE"),
        (describe({"FunctionUrl": "https://f"}), None, "no output WebSocketUrl, HttpApiUrl"),
    ],
    ids=["missing-stack", "rolled-back", "not-lambdagraph"],
)
def test_unusable_stacks_are_clear_errors(
    response: dict[str, Any] | None, error: str | None, message: str
) -> None:
    with pytest.raises(smoke.SmokeError, match=message):
        smoke.StackEndpoints.from_outputs(
            smoke.stack_outputs(stubbed_cloudformation(response, error), "lg")
        )


def test_function_url_requests_are_sigv4_signed_with_the_payload_hash() -> None:
    credentials = boto3.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    ).get_credentials()
    signer = smoke.FunctionUrlSigner(credentials, "eu-west-1")
    request = httpx.Request(
        "POST", "https://abc.lambda-url.eu-west-1.on.aws/threads", json={"metadata": {}}
    )
    signed = next(signer.auth_flow(request))
    assert signed.headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/lambda/aws4_request" in signed.headers["authorization"]
    assert signed.headers["x-amz-content-sha256"] == hashlib.sha256(request.content).hexdigest()


class LocalSession:
    """A boto3 session stand-in whose CloudFormation describes the local stack."""

    def __init__(self, stack: LocalStack, cognito: Any = None, **outputs: str) -> None:
        self.outputs = {
            "FunctionUrl": stack.url,
            "WebSocketUrl": stack.ws_url,
            "HttpApiUrl": stack.url,
            **outputs,
        }
        self.region_name = "us-east-1"
        self.cognito = cognito

    def client(self, name: str) -> Any:
        if name == "cognito-idp":
            assert self.cognito is not None, "the auth checks ran without a user pool"
            return self.cognito
        assert name == "cloudformation"
        return stubbed_cloudformation(describe(self.outputs))

    def get_credentials(self) -> Any:
        return boto3.Session(
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
        ).get_credentials()


@pytest.fixture
def stack(tables: Tables) -> Iterator[LocalStack]:
    with running_stack(settings=stack_settings(tables, scripted_delay_ms=2)) as running:
        yield running


async def test_every_check_passes_against_the_local_stack(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    args = argparse.Namespace(
        stack="lg",
        token="smoke",
        sign="always",
        skip_websocket=False,
        timeout=30.0,
        auth_checks="auto",
        # No CloudWatch locally: the observability check runs on stubs (test_smoke_observe).
        skip_observability=True,
        metrics_wait=1.0,
    )
    assert await smoke.smoke(args, LocalSession(stack)) is True
    lines = [
        line for line in capsys.readouterr().out.splitlines() if line.startswith(("PASS", "FAIL"))
    ]
    assert len(lines) == 6 and all(line.startswith("PASS") for line in lines), lines


def test_samconfig_example_overrides_only_real_parameters_with_allowed_values() -> None:
    import tomllib

    config = tomllib.loads((REPO_ROOT / "infra" / "samconfig.toml").read_text())
    overrides = config["default"]["deploy"]["parameters"]["parameter_overrides"]
    parameters = document()["Parameters"]
    for override in overrides:
        name, _, value = override.partition("=")
        assert name in parameters, name
        assert value in parameters[name].get("AllowedValues", [value]), override
