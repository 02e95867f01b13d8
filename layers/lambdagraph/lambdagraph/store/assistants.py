"""Users' assistants in the app table: the current record and every version (keys in
:mod:`store.schema`, the assistants section).

Every method takes the caller's user id; another user's assistant is reported exactly like a
missing one (``AssistantNotFound``). Creating writes the record and version 1 in one
transaction; a patch writes version ``latest_version + 1`` and makes it current in one
transaction conditioned on the version the caller read, so two patches never write the same
version. A graph's default assistant is not stored here (``engine.assistants`` derives it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast

from botocore.exceptions import ClientError

from lambdagraph import aws
from lambdagraph.errors import AssistantNotFound, Conflict
from lambdagraph.store import items, schema
from lambdagraph.store.dynamo import call, error_code, get_j, get_s, j, n, s, translate_errors
from lambdagraph.store.records import Assistant
from lambdagraph.store.table import ConditionFailed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

_ATTEMPTS: Final = 5
_BATCH_WRITE: Final = 25  # BatchWriteItem takes at most 25 requests


def _fields(assistant: Assistant) -> dict[str, Any]:
    return {
        "assistant_id": s(assistant["assistant_id"]),
        "graph_id": s(assistant["graph_id"]),
        "name": s(assistant["name"]),
        "description_json": j(assistant["description"]),
        "config_json": j(assistant["config"]),
        "context_json": j(assistant["context"]),
        "metadata_json": j(assistant["metadata"]),
        "version": n(assistant["version"]),
        "owner": s(cast(str, assistant["owner"])),
    }


def assistant_item(assistant: Assistant) -> dict[str, Any]:
    """The current-record item of a new assistant."""
    owner = cast(str, assistant["owner"])
    return {
        **schema.assistant_key(assistant["assistant_id"]),
        **_fields(assistant),
        "GSI1PK": s(schema.owner_gsi1pk(owner)),
        "GSI1SK": s(schema.assistant_gsi1sk(assistant["created_at"], assistant["assistant_id"])),
        "latest_version": n(assistant["version"]),
        "created_at": s(assistant["created_at"]),
        "updated_at": s(assistant["updated_at"]),
    }


def version_item(assistant: Assistant) -> dict[str, Any]:
    """The item of one version (``created_at`` is when the version was written)."""
    return {
        **schema.assistant_version_key(assistant["assistant_id"], assistant["version"]),
        **_fields(assistant),
        "created_at": s(assistant["updated_at"]),
        "updated_at": s(assistant["updated_at"]),
    }


def assistant_from_item(item: Mapping[str, Any]) -> Assistant:
    """The assistant (or one version of it) an item holds."""
    return {
        "assistant_id": cast(str, get_s(item, "assistant_id")),
        "graph_id": cast(str, get_s(item, "graph_id")),
        "name": cast(str, get_s(item, "name")),
        "description": get_j(item, "description_json", None),
        "config": get_j(item, "config_json", {}),
        "context": get_j(item, "context_json", {}),
        "metadata": get_j(item, "metadata_json", {}),
        "version": int(item["version"]["N"]),
        "created_at": cast(str, get_s(item, "created_at")),
        "updated_at": cast(str, get_s(item, "updated_at")),
        "owner": get_s(item, "owner"),
    }


class AssistantStore:
    """Users' assistants and their versions, in the app table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.

    Example:
        >>> store = AssistantStore("app", client=app_store.client)
        >>> await store.create(assistant, if_exists="raise")
    """

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")

    async def create(self, assistant: Assistant, *, if_exists: str = "raise") -> Assistant:
        """Record a new assistant (``version`` 1) and its first version, in one transaction.

        Raises:
            Conflict: the id is taken and ``if_exists="raise"``.
            AssistantNotFound: the id is another user's (with ``do_nothing``).
        """
        ops = [
            {"Put": {"TableName": self.table_name, "Item": item, "ConditionExpression": cond}}
            for item, cond in (
                (assistant_item(assistant), schema.ASSISTANT_IS_NEW),
                (version_item(assistant), schema.ASSISTANT_IS_NEW),
            )
        ]
        try:
            await self._transact(ops)
        except ConditionFailed:
            if if_exists == "do_nothing":
                return await self.get(cast(str, assistant["owner"]), assistant["assistant_id"])
            raise Conflict(f"Assistant {assistant['assistant_id']} already exists") from None
        return assistant

    async def get(self, owner: str, assistant_id: str) -> Assistant:
        """The caller's assistant, or ``AssistantNotFound``."""
        item = await self._get(schema.assistant_key(assistant_id))
        if item is None or get_s(item, "owner") != owner:
            raise AssistantNotFound(assistant_id)
        return assistant_from_item(item)

    async def list_owned(self, owner: str) -> list[Assistant]:
        """Every assistant of the caller, oldest first."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": schema.GSI1,
            "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.owner_gsi1pk(owner)),
                ":prefix": s(schema.ASSISTANT_GSI1SK_PREFIX),
            },
        }
        return [assistant_from_item(item) for item in await self._query_all(request)]

    async def update(self, owner: str, assistant_id: str, changes: Mapping[str, Any]) -> Assistant:
        """Write a new version from the current one with ``changes`` and make it current.

        ``changes`` maps fields (``graph_id``, ``name``, ``description``, ``config``,
        ``context``, ``metadata``) to their new values; the caller decides how they merge.

        Raises:
            AssistantNotFound: unknown or another user's assistant.
            Conflict: other patches kept winning the race.
        """
        for _ in range(_ATTEMPTS):
            item = await self._get(schema.assistant_key(assistant_id))
            if item is None or get_s(item, "owner") != owner:
                raise AssistantNotFound(assistant_id)
            seen = int(item["latest_version"]["N"])
            current = assistant_from_item(item)
            updated = cast(
                Assistant,
                {**current, **changes, "version": seen + 1, "updated_at": items.now_iso()},
            )
            ops = [
                self._make_current(updated, seen=seen, latest=seen + 1),
                {
                    "Put": {
                        "TableName": self.table_name,
                        "Item": version_item(updated),
                        "ConditionExpression": schema.ASSISTANT_IS_NEW,
                    }
                },
            ]
            try:
                await self._transact(ops)
            except ConditionFailed:
                continue
            return updated
        raise Conflict(f"Assistant {assistant_id} changed too often; try again")

    async def set_latest(self, owner: str, assistant_id: str, version: int) -> Assistant:
        """Make an existing version current again.

        Raises:
            AssistantNotFound: unknown or another user's assistant, or no such version.
        """
        for _ in range(_ATTEMPTS):
            item = await self._get(schema.assistant_key(assistant_id))
            if item is None or get_s(item, "owner") != owner:
                raise AssistantNotFound(assistant_id)
            found = await self._get(schema.assistant_version_key(assistant_id, version))
            if found is None:
                raise AssistantNotFound(f"{assistant_id} version {version}")
            seen = int(item["latest_version"]["N"])
            chosen = cast(
                Assistant,
                {
                    **assistant_from_item(found),
                    "created_at": get_s(item, "created_at"),
                    "updated_at": items.now_iso(),
                },
            )
            try:
                await self._transact([self._make_current(chosen, seen=seen, latest=seen)])
            except ConditionFailed:
                continue
            return chosen
        raise Conflict(f"Assistant {assistant_id} changed too often; try again")

    async def versions(self, owner: str, assistant_id: str) -> list[Assistant]:
        """Every version of the caller's assistant, newest first.

        Raises:
            AssistantNotFound: unknown or another user's assistant.
        """
        await self.get(owner, assistant_id)
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": s(schema.assistant_pk(assistant_id)),
                ":prefix": s(schema.ASSISTANT_VERSION_SK_PREFIX),
            },
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        found = await self._query_all(request)
        return [assistant_from_item(item) for item in found if get_s(item, "owner") == owner]

    async def delete(self, owner: str, assistant_id: str) -> None:
        """Delete the assistant (one conditional delete: gone at once), then its versions.

        Raises:
            AssistantNotFound: unknown or another user's assistant.
        """
        try:
            with translate_errors():
                await call(
                    self.client.delete_item,
                    TableName=self.table_name,
                    Key=schema.assistant_key(assistant_id),
                    ConditionExpression=schema.OWNED,
                    **schema.expression_attributes(schema.OWNED, values={":owner": s(owner)}),
                )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise
            raise AssistantNotFound(assistant_id) from None
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk",
            "ExpressionAttributeValues": {":pk": s(schema.assistant_pk(assistant_id))},
            "ProjectionExpression": "PK, SK",
        }
        keys = [{"PK": i["PK"], "SK": i["SK"]} for i in await self._query_all(request)]
        for start in range(0, len(keys), _BATCH_WRITE):
            pending: dict[str, Any] = {
                self.table_name: [
                    {"DeleteRequest": {"Key": key}} for key in keys[start : start + _BATCH_WRITE]
                ]
            }
            while pending:
                with translate_errors():
                    out = await call(self.client.batch_write_item, RequestItems=pending)
                pending = out.get("UnprocessedItems") or {}

    # --- DynamoDB requests -----------------------------------------------------------

    def _make_current(self, assistant: Assistant, *, seen: int, latest: int) -> dict[str, Any]:
        values = {
            ":owner": s(cast(str, assistant["owner"])),
            ":seen": n(seen),
            ":latest": n(latest),
            ":graph_id": s(assistant["graph_id"]),
            ":name": s(assistant["name"]),
            ":description": j(assistant["description"]),
            ":config": j(assistant["config"]),
            ":context": j(assistant["context"]),
            ":metadata": j(assistant["metadata"]),
            ":version": n(assistant["version"]),
            ":now": s(assistant["updated_at"]),
        }
        update, condition = schema.PATCH_ASSISTANT, schema.ASSISTANT_AT_VERSION
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": schema.assistant_key(assistant["assistant_id"]),
                "UpdateExpression": update,
                "ConditionExpression": condition,
                **schema.expression_attributes(update, condition, values=values),
            }
        }

    async def _get(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        with translate_errors():
            out = await call(
                self.client.get_item, TableName=self.table_name, Key=key, ConsistentRead=True
            )
        return cast(dict[str, Any] | None, out.get("Item"))

    async def _query_all(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        while True:
            with translate_errors():
                out = await call(self.client.query, **request)
            found.extend(out.get("Items", []))
            if "LastEvaluatedKey" not in out:
                return found
            request = {**request, "ExclusiveStartKey": out["LastEvaluatedKey"]}

    async def _transact(self, ops: list[dict[str, Any]]) -> None:
        try:
            with translate_errors():
                await call(self.client.transact_write_items, TransactItems=ops)
        except ClientError as exc:
            if error_code(exc) != "TransactionCanceledException":
                raise
            raise ConditionFailed(exc.response.get("CancellationReasons", [])) from exc
