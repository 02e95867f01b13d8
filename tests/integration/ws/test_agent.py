"""The Agent Streaming Protocol on the ``ws`` handler: API Gateway events in, management API
posts out (a fake client), moto tables; and the worker's ThreadFanout on the same tables."""

from __future__ import annotations

import json
import uuid
from typing import Any, cast

import orjson
import pytest

from lambdagraph.engine.thread_streams import CommandContext
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.ws import MESSAGE_BYTES
from lambdagraph.settings import Settings
from lambdagraph.store import schema
from lambdagraph.store.records import Run
from lambdagraph.wiring import build_ws_api
from lambdagraph.ws.api import WebSocketApi
from lambdagraph.ws.thread_fanout import ThreadFanout
from tests.conftest import Tables, load_event
from tests.unit.ws.fakes import FakeManagementClient

ALICE = "alice"


@pytest.fixture
def client() -> FakeManagementClient:
    return FakeManagementClient()


@pytest.fixture
def api(tables: Tables, client: FakeManagementClient) -> WebSocketApi:
    settings = Settings(
        app_table=tables.app, checkpoint_table=tables.checkpoints, worker_function="worker"
    )
    built = build_ws_api(settings, client_factory=lambda endpoint: client)

    async def echo(ctx: CommandContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"thread_id": ctx.thread_id, "owner": ctx.owner, "params": params}

    assert built.streams is not None
    built.streams.handlers["test.echo"] = echo
    return built


def _connection() -> str:
    return str(load_event("ws_message")["requestContext"]["connectionId"])


async def connect(api: WebSocketApi, thread_id: str | None, user: str = ALICE) -> dict[str, Any]:
    event = load_event("ws_connect")
    event["requestContext"]["authorizer"] = {"principalId": user, "user_id": user}
    if thread_id is not None:
        event["queryStringParameters"] = {"thread_id": thread_id}
    answer: dict[str, Any] = await api.handle(event)
    return answer


async def send(
    api: WebSocketApi, client: FakeManagementClient, frame: Any, user: str = ALICE
) -> list[dict[str, Any]]:
    """Send one frame on the connection; the messages it posted, decoded."""
    before = len(client.posts.get(_connection(), []))
    event = load_event("ws_message")
    event["body"] = frame if isinstance(frame, str) else json.dumps(frame)
    event["requestContext"].update(
        routeKey="$default", authorizer={"principalId": user, "user_id": user}
    )
    assert await api.handle(event) == {"statusCode": 200}
    return client.messages(_connection())[before:]


def frame(seq: int, method: str = "values", namespace: list[str] | None = None) -> dict[str, Any]:
    return {
        "type": "event",
        "event_id": str(seq),
        "seq": seq,
        "method": method,
        "params": {"namespace": namespace or [], "timestamp": 1, "data": {"n": seq}},
    }


async def log_frames(api: WebSocketApi, thread_id: str, frames: list[dict[str, Any]]) -> None:
    assert api.streams is not None
    events = [Event(str(f["method"]), f, str(f["seq"])) for f in frames]
    await api.streams.log.append(thread_id, events)


async def new_thread(api: WebSocketApi, user: str = ALICE) -> str:
    thread = await api.runs.store.create_thread(user)
    return thread["thread_id"]


async def start_run(api: WebSocketApi, thread_id: str) -> Run:
    return await api.runs.store.create_run(
        ALICE,
        thread_id=thread_id,
        assistant_id="agent",
        kwargs=cast(Any, {"input": {}, "protocol": "v2"}),
    )


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages if m.get("type") == "event"]


async def test_connect_binds_the_thread_from_the_query_string(api: WebSocketApi) -> None:
    thread_id = str(uuid.uuid4())
    assert await connect(api, thread_id.upper()) == {"statusCode": 200}
    connection = await api.connections.get_connection(_connection())
    assert connection is not None and connection.thread_id == thread_id  # canonical form


async def test_connect_with_a_thread_id_that_is_no_uuid_is_refused(api: WebSocketApi) -> None:
    assert await connect(api, "not-a-uuid") == {"statusCode": 400}
    assert await api.connections.get_connection(_connection()) is None


async def test_commands_go_in_band_to_the_bound_thread_or_the_named_one(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    bound, named = str(uuid.uuid4()), str(uuid.uuid4())
    await connect(api, bound)
    [answer] = await send(api, client, {"id": 7, "method": "test.echo", "params": {"a": 1}})
    assert answer["type"] == "success" and answer["id"] == 7
    assert answer["result"] == {"thread_id": bound, "owner": ALICE, "params": {"a": 1}}
    [answer] = await send(api, client, {"id": 8, "method": "test.echo", "thread_id": named})
    assert answer["result"]["thread_id"] == named


@pytest.mark.parametrize(
    ("frame_sent", "code", "words"),
    [
        ({"id": 1, "method": "no.such"}, "unknown_command", "no.such"),
        ({"id": "x", "method": "test.echo"}, "invalid_argument", "integer id"),
        ({"id": 1, "method": "test.echo", "params": []}, "invalid_argument", "params"),
        ({"id": 1, "method": "test.echo", "thread_id": "nope"}, "invalid_argument", "UUID"),
        ("{not json", "invalid_argument", "JSON"),
        (
            {"id": 2, "method": "subscription.subscribe", "params": {}},
            "invalid_argument",
            "channels",
        ),
        (
            {"id": 3, "method": "subscription.subscribe", "params": {"channels": ["nope"]}},
            "invalid_argument",
            "nope",
        ),
        (
            {"id": 4, "method": "subscription.reconnect", "params": {"channels": ["values"]}},
            "invalid_argument",
            "since",
        ),
        (
            {"id": 5, "method": "subscription.unsubscribe", "params": {"subscription_id": "s"}},
            "no_such_subscription",
            "s",
        ),
    ],
)
async def test_bad_frames_get_the_protocols_error_and_the_connection_stays(
    api: WebSocketApi,
    client: FakeManagementClient,
    frame_sent: Any,
    code: str,
    words: str,
) -> None:
    await connect(api, await new_thread(api))
    [answer] = await send(api, client, frame_sent)
    assert answer["type"] == "error" and answer["error"] == code, answer
    assert words in answer["message"]
    [again] = await send(api, client, {"id": 9, "method": "test.echo"})
    assert again["type"] == "success"


async def test_a_frame_without_a_thread_says_how_to_bind_one(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    await connect(api, None)
    [answer] = await send(api, client, {"id": 1, "method": "test.echo"})
    assert answer["error"] == "invalid_argument" and "?thread_id=" in answer["message"]


async def test_subscribing_to_another_users_thread_is_not_found(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    theirs = await new_thread(api, "bob")
    await log_frames(api, theirs, [frame(0)])
    await connect(api, theirs)
    params = {"channels": ["values"]}
    [answer] = await send(
        api, client, {"id": 1, "method": "subscription.subscribe", "params": params}
    )
    assert answer["type"] == "error" and answer["error"] == "no_such_run"
    assert await api.connections.stream_subscriptions(theirs) == []


async def test_subscribe_replays_the_matching_log_then_answers(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    thread_id = await new_thread(api)
    frames = [frame(0), frame(1, "messages"), frame(2), frame(3, "values", ["sub:1"]), frame(4)]
    await log_frames(api, thread_id, frames)
    await connect(api, thread_id)
    params = {"channels": ["values"], "namespaces": [[]], "depth": 0, "since": 0}
    messages = await send(
        api, client, {"id": 1, "method": "subscription.subscribe", "params": params}
    )
    assert seqs(messages) == [2, 4]  # after since, values only, root namespace only
    answer = messages[-1]
    assert answer["type"] == "success" and answer["result"]["replayed_events"] == 2
    assert answer["meta"] == {"applied_through_seq": 4}
    [stored] = await api.connections.stream_subscriptions(thread_id)
    assert stored.subscription_id == answer["result"]["subscription_id"]
    assert stored.params == {"channels": ["values"], "namespaces": [[]], "depth": 0}


async def test_since_beyond_the_log_is_refused(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    thread_id = await new_thread(api)
    await log_frames(api, thread_id, [frame(0), frame(1)])
    await connect(api, thread_id)
    params = {"channels": ["values"], "since": 5}
    [answer] = await send(
        api, client, {"id": 1, "method": "subscription.reconnect", "params": params}
    )
    assert answer["error"] == "invalid_argument" and "beyond" in answer["message"]


async def test_unsubscribe_forgets_the_subscription_and_disconnect_forgets_all(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    thread_id = await new_thread(api)
    await connect(api, thread_id)
    sub = {"id": 1, "method": "subscription.subscribe", "params": {"channels": ["values"]}}
    first = (await send(api, client, sub))[-1]["result"]["subscription_id"]
    await send(api, client, {**sub, "id": 2})
    [answer] = await send(
        api,
        client,
        {"id": 3, "method": "subscription.unsubscribe", "params": {"subscription_id": first}},
    )
    assert answer == {"type": "success", "id": 3, "result": {}}
    assert len(await api.connections.stream_subscriptions(thread_id)) == 1
    event = load_event("ws_disconnect")
    await api.handle(event)
    assert await api.connections.stream_subscriptions(thread_id) == []


async def test_idle_registration_fails_when_the_thread_changed(api: WebSocketApi) -> None:
    from lambdagraph.store.connections import StreamSubscription

    thread_id = await new_thread(api)
    await connect(api, thread_id)
    thread = await api.runs.store.get_thread(ALICE, thread_id)
    sub = StreamSubscription(thread_id, _connection(), "s1", ALICE, {"channels": ["values"]})
    await start_run(api, thread_id)  # a run started after the replay read the thread
    assert not await api.connections.subscribe_idle_thread(sub, updated_at=thread["updated_at"])
    assert await api.connections.stream_subscriptions(thread_id) == []


def _fanout(api: WebSocketApi, run: Run, client: FakeManagementClient, subs: Any) -> ThreadFanout:
    assert api.streams is not None
    return ThreadFanout(
        run,
        client,
        store=api.runs.store,
        connections=api.connections,
        log=api.streams.log,
        subscriptions=subs,
    )


def _events(frames: list[dict[str, Any]]) -> list[Event]:
    return [Event(str(f["method"]), f, str(f["seq"])) for f in frames]


async def test_a_subscriber_during_a_run_gets_every_frame_once_in_order(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    """Replay from the log (an earlier run and this run's flushed frames), then the live
    frames: across the boundary nothing is missing and nothing comes twice."""
    thread_id = await new_thread(api)
    await log_frames(api, thread_id, [frame(1), frame(2)])  # an earlier run
    run = await start_run(api, thread_id)
    fanout = _fanout(api, run, client, await api.connections.stream_subscriptions(thread_id))
    await fanout.send(_events([frame(3), frame(4)]))
    await log_frames(api, thread_id, [frame(3)])  # the log lags behind the live frames
    await connect(api, thread_id)
    sub = {"id": 1, "method": "subscription.subscribe", "params": {"channels": ["values"]}}
    replayed = await send(api, client, sub)
    assert seqs(replayed) == [1, 2, 3] and replayed[-1]["type"] == "success"
    await fanout.send(_events([frame(5)]))  # before the executor's poll shows the entry
    await fanout.observe(await api.runs.store.read_run(run))
    await fanout.send(_events([frame(6), frame(7, "messages")]))
    await fanout.close()
    assert seqs(client.messages(_connection())) == [1, 2, 3, 4, 5, 6]


async def test_a_subscriber_of_an_idle_thread_gets_the_next_runs_frames(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    thread_id = await new_thread(api)
    await log_frames(api, thread_id, [frame(1)])
    await connect(api, thread_id)
    params = {"channels": ["values", "lifecycle"]}
    await send(api, client, {"id": 1, "method": "subscription.subscribe", "params": params})
    run = await start_run(api, thread_id)
    fanout = _fanout(api, run, client, await api.connections.stream_subscriptions(thread_id))
    await fanout.send(_events([frame(2, "lifecycle"), frame(3, "tools"), frame(4)]))
    await fanout.close()
    messages = client.messages(_connection())
    assert seqs(messages) == [1, 2, 4]
    assert [m["method"] for m in messages if m.get("type") == "event"] == [
        "values",
        "lifecycle",
        "values",
    ]


async def test_another_users_subscription_on_the_thread_id_gets_nothing(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    from lambdagraph.store.connections import StreamSubscription

    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    foreign = StreamSubscription(
        thread_id, "mallory-conn", "s", "mallory", {"channels": ["values"]}
    )
    fanout = _fanout(api, run, client, [foreign])
    await fanout.send(_events([frame(0)]))
    await fanout.close()
    assert client.posts == {}


async def test_each_frame_is_its_own_message_and_an_oversized_one_is_an_error(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    from lambdagraph.store.connections import StreamSubscription

    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    sub = StreamSubscription(thread_id, "c1", "s", ALICE, {"channels": ["messages", "values"]})
    fanout = _fanout(api, run, client, [sub])
    big = frame(2)
    big["params"]["data"] = {"blob": "x" * MESSAGE_BYTES}
    chunks = [frame(0, "messages"), frame(1, "messages"), big, frame(3)]
    await fanout.send(_events(chunks))
    await fanout.close()
    raw = client.posts["c1"]
    assert len(raw) == 4 and all(len(m) <= MESSAGE_BYTES for m in raw)
    decoded = [orjson.loads(m) for m in raw]
    assert [d.get("seq") for d in decoded] == [0, 1, 2, 3]
    assert decoded[0] == frame(0, "messages")  # unchanged: no merging of chunks
    assert (
        decoded[2]["type"] == "error"
        and "over the WebSocket message limit" in decoded[2]["message"]
    )


async def test_a_run_that_continues_elsewhere_hands_each_connection_over(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    from lambdagraph.store.connections import StreamSubscription

    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)  # still running when this attempt closes
    sub = StreamSubscription(thread_id, "c1", "s", ALICE, {"channels": ["values"]})
    await api.connections.put_connection("c1", ALICE, thread_id)
    first = _fanout(api, run, client, [sub])
    await first.send(_events([frame(0), frame(1)]))
    await first.close()
    await log_frames(api, thread_id, [frame(0), frame(1)])
    fresh = await api.runs.store.read_run(run)
    assert schema.stream_entry("c1", schema.STREAM_HANDOVER, 1) in (fresh.get("subscribers") or [])
    second = _fanout(api, fresh, client, [sub])
    await second.send(_events([frame(2)]))
    await second.close()
    assert seqs(client.messages("c1")) == [0, 1, 2]


async def test_a_look_cancelled_halfway_is_finished_by_the_final_one(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    """The executor cancels its poll when the run ends, maybe inside ``observe``."""
    import asyncio

    from lambdagraph.store.connections import StreamSubscription

    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    fanout = _fanout(api, run, client, [])
    await fanout.send(_events([frame(0)]))
    for connection in ("c1", "c2"):
        await api.connections.put_connection(connection, ALICE, thread_id)
        sub = StreamSubscription(thread_id, connection, "s", ALICE, {"channels": ["values"]})
        assert await api.connections.subscribe_active_run(sub, run["run_id"], -1)
    applied = fanout._apply

    async def cancelled_on_c2(connection_id: str, changes: Any) -> None:
        if connection_id == "c2":
            raise asyncio.CancelledError
        await applied(connection_id, changes)

    fanout._apply = cancelled_on_c2  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await fanout.observe(await api.runs.store.read_run(run))
    fanout._apply = applied  # type: ignore[method-assign]
    await fanout.send(_events([frame(1)]))
    await fanout.close()
    assert seqs(client.messages("c1")) == [0, 1]
    assert seqs(client.messages("c2")) == [0, 1]


async def test_a_slow_connection_is_closed_so_its_client_reconnects_with_since(
    api: WebSocketApi,
) -> None:
    """Detached silently, a protocol client would wait forever; closed, it resumes."""
    from lambdagraph.store.connections import StreamSubscription
    from tests.unit.ws.fakes import SlowManagementClient

    class Closing(SlowManagementClient):
        def __init__(self) -> None:
            super().__init__({"slow"})
            self.closed: list[str] = []

        def delete_connection(self, *, ConnectionId: str) -> None:
            self.closed.append(ConnectionId)
            self.gate.set()  # the stuck post returns; nothing more is posted to it

    client = Closing()
    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    subs = [
        StreamSubscription(thread_id, name, "s", ALICE, {"channels": ["values"]})
        for name in ("slow", "fast")
    ]
    assert api.streams is not None
    fanout = ThreadFanout(
        run,
        client,
        store=api.runs.store,
        connections=api.connections,
        log=api.streams.log,
        subscriptions=subs,
        max_queued_bytes=500,
        max_wait=0.05,
    )
    await fanout.send(_events([frame(seq) for seq in range(20)]))
    await fanout.send(_events([frame(20)]))
    await fanout.close()
    assert client.closed == ["slow"]
    assert seqs(client.messages("fast")) == list(range(21))
    assert len(client.messages("slow")) < 21


async def test_a_connection_found_gone_while_the_run_closes_is_dropped_the_rest_flushed(
    api: WebSocketApi,
) -> None:
    """Closing flushes each sender in turn; a post still in flight that finds its client
    gone removes that connection from the fan-out meanwhile: every other connection still
    gets all its frames (the close does not stop halfway)."""
    from lambdagraph.store.connections import StreamSubscription
    from tests.unit.ws.fakes import SlowManagementClient

    client = SlowManagementClient({"0-gone"})  # its posts wait for the gate, then fail
    client.gone = {"0-gone"}
    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    subs = []
    for name in ("0-gone", "a", "b"):
        await api.connections.put_connection(name, ALICE, thread_id)
        subs.append(StreamSubscription(thread_id, name, "s", ALICE, {"channels": ["values"]}))
    fanout = _fanout(api, run, client, subs)
    await fanout.send(_events([frame(0), frame(1)]))
    gone = fanout.targets["0-gone"].sender
    close_gone = gone.close

    async def released_when_closing() -> None:
        client.gate.set()  # the client left while its posts were in flight
        await close_gone()

    gone.close = released_when_closing  # type: ignore[method-assign]
    await fanout.close()
    assert seqs(client.messages("a")) == [0, 1] and seqs(client.messages("b")) == [0, 1]
    assert sorted(fanout.targets) == ["a", "b"]
    assert await api.connections.get_connection("0-gone") is None


async def test_two_subscriptions_made_apart_during_a_run_each_catch_up_from_their_cursor(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    """useStream subscribes a channel at a time: each replays the log as far as it is
    flushed then, so the connection's subscriptions announce different cursors, and each
    gets the run's frames after its own (the later cursor would skip the earlier's)."""
    thread_id = await new_thread(api)
    run = await start_run(api, thread_id)
    fanout = _fanout(api, run, client, [])
    await fanout.send(_events([frame(1, "messages"), frame(2, "messages")]))
    await log_frames(api, thread_id, [frame(1, "messages")])
    await connect(api, thread_id)
    messages = {"id": 1, "method": "subscription.subscribe", "params": {"channels": ["messages"]}}
    assert seqs(await send(api, client, messages)) == [1]
    await fanout.send(_events([frame(3)]))
    await log_frames(api, thread_id, [frame(2, "messages"), frame(3)])
    values = {"id": 2, "method": "subscription.subscribe", "params": {"channels": ["values"]}}
    assert seqs(await send(api, client, values)) == [3]
    await fanout.observe(await api.runs.store.read_run(run))
    await fanout.send(_events([frame(4, "messages"), frame(5)]))
    await fanout.close()
    got = [m for m in client.messages(_connection()) if m.get("type") == "event"]
    assert [m["seq"] for m in got if m["method"] == "messages"] == [1, 2, 4]
    assert [m["seq"] for m in got if m["method"] == "values"] == [3, 5]
