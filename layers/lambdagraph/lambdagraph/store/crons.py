"""Crons in the app table: one item per cron, owned by one user (keys in :mod:`store.schema`).

Every method that reads or changes a cron takes the caller's user id; another user's cron
is reported exactly like a missing one. The cron document (LangGraph Server's ``Cron``
shape) is stored as JSON; ``owner``, ``enabled`` and ``next_run_date`` are attributes of
their own because conditions and the local scheduler's scan read them (the scan is the
local stack's own, ``lambdagraph_client.local.crons``: deployed functions never scan).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict, cast

from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.errors import NotFound
from lambdagraph.store import schema
from lambdagraph.store.dynamo import call, error_code, get_j, get_s, j, s, translate_errors

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class Cron(TypedDict):
    """A cron as LangGraph Server answers it (``langgraph_sdk.schema.Cron``)."""

    cron_id: str
    assistant_id: str
    thread_id: str | None
    user_id: str | None
    schedule: str
    timezone: str | None
    end_time: str | None
    payload: dict[str, Any]
    metadata: dict[str, Any]
    on_run_completed: Literal["delete", "keep"] | None
    enabled: bool
    next_run_date: str | None
    created_at: str
    updated_at: str


def cron_not_found(cron_id: str) -> NotFound:
    """LangGraph Server's 404 for an unknown cron."""
    return NotFound(f"Cron '{cron_id}' not found")


def _item(owner: str, cron: Cron) -> dict[str, Any]:
    document = {k: v for k, v in cron.items() if k != "next_run_date"}
    item: dict[str, Any] = {
        **schema.cron_key(cron["cron_id"]),
        "GSI1PK": s(schema.owner_gsi1pk(owner)),
        "GSI1SK": s(schema.cron_gsi1sk(cron["created_at"], cron["cron_id"])),
        "owner": s(owner),
        "enabled": {"BOOL": cron["enabled"]},
        "cron_json": j(document),
    }
    if cron["next_run_date"] is not None:
        item["next_run_date"] = s(cron["next_run_date"])
    return item


def cron_from_item(item: Mapping[str, Any]) -> Cron:
    """The cron an item holds."""
    document = dict(get_j(item, "cron_json", {}))
    document["next_run_date"] = get_s(item, "next_run_date")
    return cast(Cron, document)


class CronStore:
    """Crons of every user, in the app table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
    """

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")

    async def create(self, owner: str, cron: Cron) -> None:
        """Record a new cron owned by ``owner``."""
        with translate_errors():
            await call(
                self.client.put_item,
                TableName=self.table_name,
                Item=_item(owner, cron),
                ConditionExpression=schema.CRON_IS_NEW,
            )

    async def get(self, owner: str, cron_id: str) -> Cron:
        """The cron; ``NotFound`` when unknown or another user's."""
        with translate_errors():
            out = await call(
                self.client.get_item,
                TableName=self.table_name,
                Key=schema.cron_key(cron_id),
                ConsistentRead=True,
            )
        item = out.get("Item")
        if item is None or get_s(item, "owner") != owner:
            raise cron_not_found(cron_id)
        return cron_from_item(item)

    async def replace(self, owner: str, cron: Cron) -> None:
        """Write ``cron`` over the owner's cron of the same id; ``NotFound`` if there is none."""
        await self._conditional("put_item", cron["cron_id"], Item=_item(owner, cron), owner=owner)

    async def delete(self, owner: str, cron_id: str) -> Cron:
        """Delete the owner's cron and return it; ``NotFound`` if there is none."""
        out = await self._conditional(
            "delete_item",
            cron_id,
            Key=schema.cron_key(cron_id),
            owner=owner,
            ReturnValues="ALL_OLD",
        )
        return cron_from_item(out["Attributes"])

    async def _conditional(
        self, method: str, cron_id: str, *, owner: str, **request: Any
    ) -> dict[str, Any]:
        gone = {"ConditionalCheckFailedException": lambda _: cron_not_found(cron_id)}
        with translate_errors(gone):
            out = await call(
                getattr(self.client, method),
                TableName=self.table_name,
                ConditionExpression=schema.OWNED,
                **schema.expression_attributes(schema.OWNED, values={":owner": s(owner)}),
                **request,
            )
        return cast(dict[str, Any], out)

    async def owned(self, owner: str) -> list[Cron]:
        """Every cron of ``owner``, newest first (sorting and filters are the caller's)."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.owner_gsi1pk(owner)),
                ":prefix": s(schema.CRON_GSI1SK_PREFIX),
            },
            "ScanIndexForward": False,
        }
        found: list[Cron] = []
        while True:
            with translate_errors():
                out = await call(self.client.query, **request)
            found.extend(cron_from_item(item) for item in out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return found
            request["ExclusiveStartKey"] = out["LastEvaluatedKey"]

    async def move_next_run(self, cron_id: str, condition: str, value: str, next_run: str) -> bool:
        """Set the cron's next run date if ``condition`` holds (``:seen`` or ``:now`` is
        ``value``); ``False`` when it did not (someone else fired it, or it is gone)."""
        placeholder = ":seen" if ":seen" in condition else ":now"
        values = {placeholder: s(value), ":next": s(next_run)}
        try:
            await call(
                self.client.update_item,
                TableName=self.table_name,
                Key=schema.cron_key(cron_id),
                UpdateExpression=schema.SET_CRON_NEXT,
                ConditionExpression=condition,
                **schema.expression_attributes(schema.SET_CRON_NEXT, condition, values=values),
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                with translate_errors():
                    raise
            return False
        return True


__all__ = ["Cron", "CronStore", "cron_from_item", "cron_not_found"]
