"""Shared fixtures: fake credentials, one moto server per session, fresh tables per test."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdagraph_client.local.dynamo import embedded_aws
from lambdagraph_client.local.tables import ensure_tables

# One set of sample events, shared with `sam local invoke -e events/<name>.json`.
EVENTS_DIR = Path(__file__).resolve().parents[1] / "events"

# Never reach real AWS from a test: fake credentials, no profile, a fixed region.
for _key in (
    "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"
):
    os.environ.pop(_key, None)
os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_SESSION_TOKEN="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_REGION="us-east-1",
)


def load_event(name: str) -> dict[str, Any]:
    """A sample AWS event from ``events/<name>.json`` (also used by ``sam local invoke``)."""
    return json.loads((EVENTS_DIR / f"{name}.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="session")
def aws_endpoint() -> Iterator[str]:
    """One threaded moto server (DynamoDB, S3) for the session; boto3 points at it."""
    with embedded_aws() as endpoint:
        yield endpoint


@dataclass(frozen=True)
class Tables:
    """Names of a fresh set of template tables (and a bucket) for one test."""

    checkpoints: str
    app: str
    bucket: str


@pytest.fixture
def tables(aws_endpoint: str) -> Tables:
    """Fresh, uniquely named tables from ``template.yaml`` and a fresh S3 bucket."""
    suffix = uuid.uuid4().hex[:10]
    names = Tables(
        checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"checkpoints-{suffix}"
    )
    ensure_tables(
        boto3.client("dynamodb"), {"CheckpointsTable": names.checkpoints, "AppTable": names.app}
    )
    boto3.client("s3").create_bucket(Bucket=names.bucket)
    return names
