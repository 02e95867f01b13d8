"""Two users on one stack: whatever bob does with alice's objects, he gets what an unknown id gets.

Alice builds a small world (a finished resumable run, a thread waiting at an interrupt, a
background run still going); bob then calls every route of the app on her ids. Each route
has a case in :data:`CASES`, and a route without one fails
:func:`test_every_route_of_the_app_has_an_isolation_case`. A route that addresses alice's
objects must answer bob exactly as it answers fresh random ids (same status, same body once
the ids are blanked out); a route that names no object (search, stateless runs, assistants)
must show bob nothing of hers. Afterwards alice's objects are as she left them and her
background run still finishes.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.errors import NotFoundError

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings, user_message
from tests.e2e.gate import GATE, GATE_GRAPH, RELEASED

SECRET = "alice's secret is banana"
STORE_NAMESPACE = ("secrets",)
STORE_KEY = "fruit"
STORE_VALUE = {"text": SECRET, "owner": "alice"}  # "owner": what the custom auth filters on


@dataclass(frozen=True)
class Ids:
    """The ids bob aims at: alice's (or unknown ones in their place), and his own."""

    thread: str  # a thread with one finished, resumable (logged) run
    run: str
    checkpoint: str  # its latest checkpoint
    waiting: str  # a thread waiting at an interrupt
    waiting_run: str
    live: str  # a thread whose background run is still going
    live_run: str
    bob_thread: str  # bob's own thread and run, to mix with alice's ids
    bob_run: str
    assistant: str  # alice's own assistant (two versions)
    bob_assistant: str
    cron: str = ""  # a cron on alice's thread

    def unknown(self) -> Ids:
        """The same ids with alice's replaced by fresh random ones."""
        mine = {"bob_thread", "bob_run", "bob_assistant"}
        return replace(
            self, **{f.name: str(uuid.uuid4()) for f in fields(self) if f.name not in mine}
        )

    def blank(self, text: str) -> str:
        """``text`` with every id replaced by its field name."""
        for name, value in asdict(self).items():
            text = text.replace(value, f"<{name}>")
        return text


Headers = Callable[[str], dict[str, str]]

CUSTOM_AUTH = "tests.e2e.auth_files.langgraph_auth:auth"
"""A LangGraph ``Auth`` file (owner stamps and filters): the table must hold behind it too."""


def _custom_auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {user}-token"}  # its tokens for alice and bob


@dataclass(frozen=True)
class World:
    stack: LocalStack
    ids: Ids
    before: dict[str, Any]  # alice's objects as she left them
    auth: Headers  # a user's request headers in this stack's auth mode


def _alice_snapshot(http: httpx.Client, ids: Ids) -> dict[str, Any]:
    snapshot: dict[str, Any] = {}
    for tid in (ids.thread, ids.waiting):
        snapshot[tid] = [
            http.get(f"/threads/{tid}").json(),
            http.get(f"/threads/{tid}/state").json(),
            http.post(f"/threads/{tid}/history", json={}).json(),
            http.get(f"/threads/{tid}/runs").json(),
        ]
    listed = http.post("/threads/search", json={"limit": 100}).json()
    snapshot["search"] = [t for t in listed if t["thread_id"] in snapshot]
    snapshot[ids.assistant] = [
        http.get(f"/assistants/{ids.assistant}").json(),
        http.post(f"/assistants/{ids.assistant}/versions", json={}).json(),
    ]
    return snapshot


def _run_id(response: httpx.Response) -> str:
    return response.headers["content-location"].rsplit("/", 1)[1]


def _build_world(stack: LocalStack, auth: Headers) -> World:
    alice = get_sync_client(url=stack.url, headers=auth("alice"))
    thread = alice.threads.create(metadata={"owner_note": "alice"})["thread_id"]
    parts = list(
        alice.runs.stream(thread, "agent", input=user_message(SECRET), stream_resumable=True)
    )
    run = parts[0].data["run_id"]
    checkpoint = alice.threads.get_state(thread)["checkpoint"]["checkpoint_id"]
    assert checkpoint is not None
    waiting = alice.threads.create()["thread_id"]
    with httpx.Client(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        waited = http.post(
            f"/threads/{waiting}/runs/wait",
            json={"assistant_id": "agent", "input": user_message("email carol@example.com")},
        )
        assert "__interrupt__" in waited.json(), waited.text
        waiting_run = _run_id(waited)
        live = alice.threads.create()["thread_id"]
        live_run = alice.runs.create(live, "gate", input=user_message("wait"))["run_id"]
        alice.store.put_item(list(STORE_NAMESPACE), STORE_KEY, STORE_VALUE)
        bob = get_sync_client(url=stack.url, headers=auth("bob"))
        bob_thread = bob.threads.create()["thread_id"]
        bob_run = bob.runs.create(bob_thread, "agent", input=user_message("hi"))["run_id"]
        bob.runs.join(bob_thread, bob_run)
        # langgraph-sdk 0.4 types a cron answer as a run: read it as the dict it is.
        made: dict[str, Any] = dict(
            alice.crons.create_for_thread(thread, "agent", schedule="0 0 1 1 *")
        )
        cron = made["cron_id"]
        assistant = alice.assistants.create("agent", name=SECRET, context={"secret": SECRET})
        alice.assistants.update(assistant["assistant_id"], metadata={"note": SECRET})
        bob_assistant = bob.assistants.create("agent", name="bob's")["assistant_id"]
        ids = Ids(
            thread, run, checkpoint, waiting, waiting_run, live, live_run, bob_thread, bob_run,
            assistant["assistant_id"], bob_assistant, cron,
        )
        assert alice.threads.get(waiting)["status"] == "interrupted"
        return World(stack, ids, _alice_snapshot(http, ids), auth)


@pytest.fixture(scope="module", params=["token", "custom"])
def world(aws_endpoint: str, request: pytest.FixtureRequest) -> Iterator[World]:
    """One stack per auth mode, with the graph that keeps alice's live run going: the test
    authenticator alone, or a LangGraph ``Auth`` file whose handlers filter on an owner."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    settings = stack_settings(tables, graphs=GATE_GRAPH)
    headers: Headers = auth
    authenticator: TokenIsUser | None = TokenIsUser()
    if request.param == "custom":
        settings = settings.replace(auth_mode="custom", auth_path=CUSTOM_AUTH)
        headers, authenticator = _custom_auth, None
    GATE.clear()
    with running_stack(settings=settings, authenticator=authenticator) as stack:
        try:
            yield _build_world(stack, headers)
        finally:
            GATE.set()  # a failed test must not leave the run waiting out its minute


@pytest.fixture
async def bob(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=world.stack.url, headers=world.auth("bob"), timeout=30
    ) as c:
        yield c


@pytest.fixture
async def alice(world: World) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=world.stack.url, headers=world.auth("alice"), timeout=60
    ) as c:
        yield c


# --- the cases ---------------------------------------------------------------------------

Probe = Callable[[httpx.AsyncClient, Ids], Awaitable[httpx.Response]]
Check = Callable[[World, httpx.AsyncClient, httpx.AsyncClient], Awaitable[None]]


@dataclass(frozen=True)
class Foreign:
    """The route names alice's objects: each probe answers bob as for unknown ids."""

    status: int
    probes: tuple[Probe, ...]


@dataclass(frozen=True)
class Own:
    """The route names no object of alice's by id: ``check`` shows bob sees none of hers."""

    check: Check


def _get(path: str, **headers: str) -> Probe:
    async def probe(http: httpx.AsyncClient, ids: Ids) -> httpx.Response:
        return await http.get(path.format(**asdict(ids)), headers=headers)

    return probe


def _delete(path: str) -> Probe:
    async def probe(http: httpx.AsyncClient, ids: Ids) -> httpx.Response:
        return await http.delete(path.format(**asdict(ids)))

    return probe


def _post(path: str, body: dict[str, Any] | None = None) -> Probe:
    async def probe(http: httpx.AsyncClient, ids: Ids) -> httpx.Response:
        payload = None if body is None else _fill(body, ids)
        return await http.post(path.format(**asdict(ids)), json=payload)

    return probe


def _patch(path: str, body: dict[str, Any]) -> Probe:
    async def probe(http: httpx.AsyncClient, ids: Ids) -> httpx.Response:
        return await http.patch(path.format(**asdict(ids)), json=_fill(body, ids))

    return probe


def _fill(value: Any, ids: Ids) -> Any:
    if isinstance(value, str):
        return value.format(**asdict(ids))
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


RUN: dict[str, Any] = {"assistant_id": "agent", "input": user_message("show me what alice has")}
RESUME: dict[str, Any] = {"assistant_id": "agent", "command": {"resume": {"approved": True}}}
STRATEGIES = ("reject", "enqueue", "interrupt", "rollback")


def _run_probes(path: str) -> tuple[Probe, ...]:
    """Starting a run on alice's threads, every way a client can."""
    return (
        _post(f"/threads/{{thread}}/{path}", RUN),
        _post(f"/threads/{{waiting}}/{path}", RESUME),
        _post(f"/threads/{{waiting}}/{path}", {**RESUME, "if_not_exists": "reject"}),
        _post(f"/threads/{{waiting}}/{path}", {**RESUME, "checkpoint_id": "{checkpoint}"}),
        *(
            _post(f"/threads/{{live}}/{path}", {**RUN, "multitask_strategy": strategy})
            for strategy in STRATEGIES
        ),
        _post(f"/threads/{{thread}}/{path}", {**RUN, "stream_resumable": True}),
        _post(f"/threads/{{thread}}/{path}", {**RUN, "checkpoint_id": "{checkpoint}"}),
    )


async def _taken_ids_say_only_taken(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    ids = world.ids
    theirs = await bob.post("/threads", json={"thread_id": ids.thread})
    mine = await bob.post("/threads", json={"thread_id": ids.bob_thread})
    assert theirs.status_code == mine.status_code == 409
    assert theirs.content == mine.content.replace(ids.bob_thread.encode(), ids.thread.encode())
    assert theirs.headers["content-type"] == mine.headers["content-type"]
    # With do_nothing an unknown id is created and one's own is returned: a taken id of
    # another user can only be refused, and it is, with the words of an unknown thread.
    nothing = await bob.post("/threads", json={"thread_id": ids.thread, "if_exists": "do_nothing"})
    assert (nothing.status_code, nothing.json()) == (
        404,
        {"detail": f"Thread {ids.thread} not found"},
    )
    # So is a run that would create its thread, where an unknown id gets a new thread.
    for path in ("runs", "runs/wait", "runs/stream"):
        run = await bob.post(
            f"/threads/{ids.thread}/{path}", json={**RUN, "if_not_exists": "create"}
        )
        assert (run.status_code, run.json()) == (404, {"detail": f"Thread {ids.thread} not found"})
    # A resume that may create its thread finds no interrupt on it: on her waiting thread
    # as on an unknown one.
    unknown = ids.unknown()
    resumes = [
        await _post("/threads/{waiting}/runs/wait", {**RESUME, "if_not_exists": "create"})(bob, i)
        for i in (ids, unknown)
    ]
    assert resumes[0].status_code == 422 and "no pending interrupt" in resumes[0].text
    assert _shape(resumes[0], ids) == _shape(resumes[1], unknown)
    created = await bob.post("/threads", json={})
    assert created.status_code == 200 and "owner_note" not in created.json()["metadata"]


async def _search_lists_only_bobs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    ids = world.ids
    for body in (
        {},
        {"limit": 1000},
        {"metadata": {"owner_note": "alice"}},
        {"status": "interrupted"},
        {"status": "busy"},
        {"offset": 1},
        {"ids": [ids.thread, ids.waiting, ids.bob_thread]},
        {"sort_by": "updated_at", "sort_order": "asc"},
        {"sort_by": "status", "select": ["thread_id", "metadata"]},
    ):
        found = await bob.post("/threads/search", json=body)
        assert found.status_code == 200
        assert all(t["thread_id"] not in {ids.thread, ids.waiting, ids.live} for t in found.json())
        assert all(t["metadata"].get("owner_note") != "alice" for t in found.json())
    assert ids.bob_thread in [t["thread_id"] for t in (await bob.post("/threads/search")).json()]


async def _count_counts_only_bobs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    listed = (await bob.post("/threads/search", json={"limit": 1000})).json()
    for body, expected in (
        ({}, len(listed)),
        ({"metadata": {"owner_note": "alice"}}, 0),
        ({"status": "interrupted"}, sum(t["status"] == "interrupted" for t in listed)),
    ):
        counted = await bob.post("/threads/count", json=body)
        assert (counted.status_code, counted.json()) == (200, expected)


def _stateless(path: str) -> Check:
    """A stateless run aimed at alice's thread and checkpoint through its config runs on
    its own temporary thread and sees nothing of hers."""

    async def check(world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
        ids = world.ids
        body = {
            **RUN,
            "stream_mode": ["values"],
            "config": {"configurable": {"thread_id": ids.thread, "checkpoint_id": ids.checkpoint}},
            "checkpoint": {"thread_id": ids.thread, "checkpoint_id": ids.checkpoint},
        }
        answer = await bob.post(path, json=body)
        assert answer.status_code == 200, answer.text
        if path == "/runs":  # a background run: what it recorded, not what it streamed
            assert answer.json()["thread_id"] not in {ids.thread, ids.waiting, ids.live}
        else:
            assert "show me what alice has" in answer.text
        assert "banana" not in answer.text and "carol@example.com" not in answer.text

    return check


def _assistant_routes(
    *foreign: Probe, shared: Probe | None = None, shared_status: int = 200
) -> Check:
    """A route that names an assistant: alice's answers bob exactly as an unknown id (404),
    and the graph's default assistant (``shared``) answers both users alike."""

    async def check(world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
        unknown = world.ids.unknown()
        for probe in foreign:
            theirs = await probe(bob, world.ids)
            nobodys = await probe(bob, unknown)
            assert _shape(theirs, world.ids) == _shape(nobodys, unknown)
            assert theirs.status_code == 404, theirs.text
            assert theirs.json()["detail"].endswith("not found")
            assert SECRET not in theirs.text
        if shared is not None:
            await _same_for_everyone(shared, shared_status)(world, bob, alice)

    return check


async def _assistant_lists_show_bob_none_of_alices(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    ids = world.ids
    found = (await bob.post("/assistants/search", json={"limit": 100})).json()
    hers = (await alice.post("/assistants/search", json={"limit": 100})).json()
    assert ids.assistant not in {a["assistant_id"] for a in found}
    assert ids.bob_assistant in {a["assistant_id"] for a in found}
    assert SECRET not in str(found)
    # The default assistants are the same for both.
    defaults = [a for a in found if a["metadata"] == {"created_by": "system"}]
    assert defaults and defaults == [a for a in hers if a["metadata"] == {"created_by": "system"}]
    counted = (await bob.post("/assistants/count", json={})).json()
    assert counted == len(found) == len(hers)


async def _taken_assistant_ids_say_only_taken(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    ids = world.ids
    theirs = await bob.post(
        "/assistants", json={"graph_id": "agent", "assistant_id": ids.assistant}
    )
    mine = await bob.post(
        "/assistants", json={"graph_id": "agent", "assistant_id": ids.bob_assistant}
    )
    assert theirs.status_code == mine.status_code == 409
    assert theirs.content == mine.content.replace(
        ids.bob_assistant.encode(), ids.assistant.encode()
    )
    nothing = await bob.post(
        "/assistants",
        json={"graph_id": "agent", "assistant_id": ids.assistant, "if_exists": "do_nothing"},
    )
    assert (nothing.status_code, nothing.json()) == (
        404,
        {"detail": f"Assistant {ids.assistant} not found"},
    )


def _same_for_everyone(probe: Probe, status: int = 200) -> Check:
    """Assistants are the deployed graphs, not users' records: bob and alice get one answer."""

    async def check(world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient) -> None:
        answers = [await probe(user, world.ids) for user in (bob, alice)]
        assert [a.status_code for a in answers] == [status, status]
        assert answers[0].content == answers[1].content

    return check


async def _bulk_cancel_spares_alices_runs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    """Bob's bulk cancel on her ids answers as on unknown ids; by status it finds nothing of
    hers (he has no run going), and her background run goes on."""
    ids, unknown = world.ids, world.ids.unknown()
    by_ids = {"thread_id": "{live}", "run_ids": ["{live_run}"]}
    mixed = {"thread_id": "{bob_thread}", "run_ids": ["{live_run}", "{bob_run}"]}
    for body in (by_ids, mixed):
        answers = [await _post("/runs/cancel", body)(bob, i) for i in (ids, unknown)]
        assert answers[0].status_code == 404, answers[0].text
        assert _shape(answers[0], ids) == _shape(answers[1], unknown)
    for status in ("all", "running", "pending"):
        answer = await bob.post("/runs/cancel", json={"status": status})
        assert answer.status_code == 404, answer.text
    live = await alice.get(f"/threads/{ids.live}/runs/{ids.live_run}")
    assert live.json()["status"] == "running"


async def _batch_runs_on_temporary_threads(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    """A batch aimed at alice's thread through its config runs on temporary threads."""
    ids = world.ids
    aimed = {**RUN, "config": {"configurable": {"thread_id": ids.thread}}}
    answer = await bob.post("/runs/batch", json=[aimed, RUN])
    assert answer.status_code == 200, answer.text
    threads = {run["thread_id"] for run in answer.json()}
    assert threads & {ids.thread, ids.waiting, ids.live} == set()
    assert "banana" not in answer.text
CRON: dict[str, Any] = {"assistant_id": "agent", "schedule": "* * * * *"}


async def _crons_list_only_bobs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    ids = world.ids
    own = await bob.post("/runs/crons", json=CRON)
    assert own.status_code == 200, own.text
    for body in ({}, {"thread_id": ids.thread}, {"limit": 1000}, {"enabled": True}):
        found = await bob.post("/runs/crons/search", json=body)
        assert found.status_code == 200
        assert ids.cron not in {c["cron_id"] for c in found.json()}
        counted = await bob.post("/runs/crons/count", json=body if "limit" not in body else {})
        assert counted.json() == len([c for c in found.json() if c["cron_id"] != ids.cron])
    mine = (await bob.post("/runs/crons/search", json={})).json()
    assert own.json()["cron_id"] in {c["cron_id"] for c in mine}
    assert (await bob.delete(f"/runs/crons/{own.json()['cron_id']}")).status_code == 204


async def _health_check_is_anonymous(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=world.stack.url) as anonymous:
        assert (await anonymous.get("/ok")).json() == {"ok": True}


async def _info_is_anonymous_and_the_same_for_everyone(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=world.stack.url) as anonymous:
        answers = [await user.get("/info") for user in (anonymous, bob, alice)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].content == answers[1].content == answers[2].content
async def _a2a(client: httpx.AsyncClient, method: str, params: dict[str, Any]) -> Any:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    answer = await client.post("/a2a/agent", json=body)
    assert answer.status_code == 200, answer.text
    if answer.headers["content-type"].startswith("text/event-stream"):  # resubscribe
        lines = [line[6:] for line in answer.text.splitlines() if line.startswith("data: ")]
        assert len(lines) == 1, answer.text
        return json.loads(lines[0])
    return answer.json()


def _a2a_calls(task: str, context: str) -> list[tuple[str, dict[str, Any]]]:
    message = {"role": "user", "messageId": "m", "parts": [{"kind": "text", "text": "yes"}]}
    return [
        ("tasks/get", {"id": task}),
        ("tasks/cancel", {"id": task}),
        ("tasks/resubscribe", {"id": task}),
        ("message/send", {"message": {**message, "taskId": task}}),
        ("message/send", {"message": {**message, "contextId": context}}),
    ]


async def _a2a_tasks_of_alice_look_unknown(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    """Alice's waiting and live runs as A2A tasks: bob cannot read, cancel, resume or
    follow them, nor send into her threads, and each answer is the one an unknown id gets."""
    ids, unknown = world.ids, world.ids.unknown()
    for mine, nobodys in (
        ((ids.waiting, ids.waiting_run), (unknown.waiting, unknown.waiting_run)),
        ((ids.live, ids.live_run), (unknown.live, unknown.live_run)),
    ):
        theirs_calls = _a2a_calls(f"{mine[0]}.{mine[1]}", mine[0])
        unknown_calls = _a2a_calls(f"{nobodys[0]}.{nobodys[1]}", nobodys[0])
        for (method, params), (_, other) in zip(theirs_calls, unknown_calls, strict=True):
            theirs, nobody = await _a2a(bob, method, params), await _a2a(bob, method, other)
            assert "error" in theirs, theirs
            assert ids.blank(json.dumps(theirs)) == unknown.blank(json.dumps(nobody))
    task = f"{ids.waiting}.{ids.waiting_run}"
    assert (await _a2a(alice, "tasks/get", {"id": task}))["result"]["status"]["state"] == (
        "input-required"
    )


async def _agent_cards_show_bob_none_of_alices_assistants(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    path = "/.well-known/agent-card.json?assistant_id="
    theirs = await bob.get(path + world.ids.assistant)
    nobodys = await bob.get(path + world.ids.unknown().assistant)
    assert theirs.status_code == nobodys.status_code == 404
    assert (await alice.get(path + world.ids.assistant)).status_code == 200
    shared = [await user.get(path + "agent") for user in (bob, alice)]
    assert shared[0].json() == shared[1].json()


async def _alices_item(alice: httpx.AsyncClient) -> Any:
    params = {"namespace": ".".join(STORE_NAMESPACE), "key": STORE_KEY}
    return (await alice.get("/store/items", params=params)).json()


async def _store_get_finds_nothing(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    params = {"namespace": ".".join(STORE_NAMESPACE), "key": STORE_KEY}
    answer = await bob.get("/store/items", params=params)
    assert (answer.status_code, answer.json()) == (200, None)
    assert (await _alices_item(alice))["value"] == STORE_VALUE


async def _store_put_writes_bobs_own(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    item = {"namespace": list(STORE_NAMESPACE), "key": STORE_KEY}
    put = await bob.put("/store/items", json={**item, "value": {"text": "bob's", "owner": "bob"}})
    assert put.status_code == 204, put.text
    params = {"namespace": ".".join(STORE_NAMESPACE), "key": STORE_KEY}
    assert (await bob.get("/store/items", params=params)).json()["value"]["text"] == "bob's"
    assert (await _alices_item(alice))["value"] == STORE_VALUE
    assert (await bob.request("DELETE", "/store/items", json=item)).status_code == 204


async def _store_delete_leaves_hers(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    item = {"namespace": list(STORE_NAMESPACE), "key": STORE_KEY}
    assert (await bob.request("DELETE", "/store/items", json=item)).status_code == 204
    assert (await _alices_item(alice))["value"] == STORE_VALUE


async def _store_search_shows_only_bobs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    for body in ({}, {"namespace_prefix": list(STORE_NAMESPACE)}, {"filter": {"owner": "alice"}},
                 {"limit": 1000}):
        found = await bob.post("/store/items/search", json=body)
        assert found.status_code == 200 and "banana" not in found.text, found.text
    mine = await alice.post("/store/items/search", json={"namespace_prefix": ["secrets"]})
    assert [i["value"] for i in mine.json()["items"]] == [STORE_VALUE]


async def _store_namespaces_are_bobs(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    for body in ({}, {"prefix": list(STORE_NAMESPACE)}, {"suffix": ["*"]}, {"max_depth": 1}):
        listed = await bob.post("/store/namespaces", json=body)
        assert listed.status_code == 200 and "secrets" not in listed.text, listed.text
    assert (await alice.post("/store/namespaces", json={})).json() == {"namespaces": [["secrets"]]}


async def _agent_commands_reach_nothing_of_hers(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    """Agent Streaming Protocol commands: an answer to an interrupt on her thread reads as
    on an unknown one, and a run.start there is refused without a word of hers."""
    ids, unknown = world.ids, world.ids.unknown()
    respond = {"id": 1, "method": "input.respond", "params": {"interrupt_id": "x", "response": 1}}
    start = {"id": 2, "method": "run.start", "params": RUN}
    for name in ("thread", "waiting", "live"):
        theirs = await bob.post(f"/threads/{getattr(ids, name)}/commands", json=respond)
        nobodys = await bob.post(f"/threads/{getattr(unknown, name)}/commands", json=respond)
        assert _shape(theirs, ids) == _shape(nobodys, unknown)
        assert theirs.json()["error"] == "no_such_run", theirs.text
        refused = await bob.post(f"/threads/{getattr(ids, name)}/commands", json=start)
        assert refused.status_code == 200 and refused.json()["type"] == "error", refused.text
        assert SECRET not in refused.text


async def _agui_runs_reach_nothing_of_hers(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient
) -> None:
    """AG-UI: a run on her thread is refused as a run that would create it; a resume of her
    interrupt reads as one on an unknown thread; her waiting thread still waits."""
    ids, unknown = world.ids, world.ids.unknown()
    message = [{"id": "m-1", "role": "user", "content": "show me what alice has"}]
    for name in ("thread", "waiting", "live"):
        thread_id = getattr(ids, name)
        body = {"threadId": thread_id, "runId": "r-1", "messages": message, "state": {},
                "tools": [], "context": [], "forwardedProps": {}}
        refused = await bob.post("/ag-ui/agent", json=body)
        assert (refused.status_code, refused.json()) == (
            404, {"detail": f"Thread {thread_id} not found"}
        )
    interrupts = (await alice.get(f"/threads/{ids.waiting}")).json()["interrupts"]
    interrupt_id = next(item["id"] for items in interrupts.values() for item in items)

    def resume(thread_id: str) -> dict[str, Any]:
        answer = {"interruptId": interrupt_id, "status": "resolved", "payload": {"approved": 1}}
        return {"threadId": thread_id, "runId": "r-2", "messages": [], "state": {},
                "tools": [], "context": [], "forwardedProps": {}, "resume": [answer]}

    theirs = await bob.post("/ag-ui/agent", json=resume(ids.waiting))
    nobodys = await bob.post("/ag-ui/agent", json=resume(unknown.waiting))
    assert _shape(theirs, ids) == _shape(nobodys, unknown)
    assert theirs.status_code == 422, theirs.text
    assert (await alice.get(f"/threads/{ids.waiting}")).json()["status"] == "interrupted"


CASES: dict[tuple[str, str], Foreign | Own] = {
    ("POST", "/threads"): Own(_taken_ids_say_only_taken),
    ("POST", "/threads/search"): Own(_search_lists_only_bobs),
    ("GET", "/threads/{thread_id}"): Foreign(
        404, (_get("/threads/{thread}"), _get("/threads/{waiting}"), _get("/threads/{live}"))
    ),
    ("DELETE", "/threads/{thread_id}"): Foreign(
        404, (_delete("/threads/{thread}"), _delete("/threads/{live}"))
    ),
    ("GET", "/threads/{thread_id}/state"): Foreign(
        404,
        (
            _get("/threads/{thread}/state"),
            _get("/threads/{waiting}/state?subgraphs=true"),
            _get("/threads/{live}/state"),
        ),
    ),
    ("POST", "/threads/{thread_id}/history"): Foreign(
        404,
        (
            _post("/threads/{thread}/history", {}),
            _post("/threads/{thread}/history", {"checkpoint": {"checkpoint_id": "{checkpoint}"}}),
            _post("/threads/{thread}/history", {"before": {"checkpoint_id": "{checkpoint}"}}),
            _post("/threads/{waiting}/history", {"limit": 1}),
        ),
    ),
    ("POST", "/threads/count"): Own(_count_counts_only_bobs),
    ("PATCH", "/threads/{thread_id}"): Foreign(
        404,
        (
            _patch("/threads/{thread}", {"metadata": {"owner_note": "bob"}}),
            _patch("/threads/{waiting}", {"metadata": {}, "ttl": {"ttl": 0.01}}),
            _patch("/threads/{live}", {}),
        ),
    ),
    ("POST", "/threads/{thread_id}/copy"): Foreign(  # LangGraph answers 409 here, not 404
        409, (_post("/threads/{thread}/copy"), _post("/threads/{live}/copy"))
    ),
    ("POST", "/threads/{thread_id}/state"): Foreign(
        404,
        (
            _post("/threads/{thread}/state", {"values": {"messages": []}}),
            _post("/threads/{waiting}/state", {"values": None, "as_node": "tools"}),
            _post("/threads/{thread}/state", {"values": {}, "checkpoint_id": "{checkpoint}"}),
            _post("/threads/{live}/state", {"values": {}}),
        ),
    ),
    ("POST", "/threads/{thread_id}/state/checkpoint"): Foreign(
        404,
        (
            _post(
                "/threads/{thread}/state/checkpoint",
                {"checkpoint": {"checkpoint_id": "{checkpoint}"}},
            ),
            _post("/threads/{waiting}/state/checkpoint", {"checkpoint": {}, "subgraphs": True}),
        ),
    ),
    ("GET", "/threads/{thread_id}/state/{checkpoint_id}"): Foreign(
        404,
        (
            _get("/threads/{thread}/state/{checkpoint}"),
            _get("/threads/{waiting}/state/{checkpoint}?subgraphs=true"),
        ),
    ),
    ("POST", "/threads/{thread_id}/runs"): Foreign(404, _run_probes("runs")),
    ("POST", "/threads/{thread_id}/runs/stream"): Foreign(404, _run_probes("runs/stream")),
    ("POST", "/threads/{thread_id}/runs/wait"): Foreign(404, _run_probes("runs/wait")),
    ("GET", "/threads/{thread_id}/runs"): Foreign(
        404,
        (
            _get("/threads/{thread}/runs"),
            _get("/threads/{live}/runs?limit=1&offset=0"),
            _get("/threads/{waiting}/runs?offset=1"),
        ),
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}"): Foreign(
        404,
        (
            _get("/threads/{thread}/runs/{run}"),
            _get("/threads/{live}/runs/{live_run}"),
            _get("/threads/{bob_thread}/runs/{run}"),  # his thread, her run
            _get("/threads/{thread}/runs/{bob_run}"),  # her thread, his run
        ),
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}/stream"): Foreign(
        404,
        (
            _get("/threads/{thread}/runs/{run}/stream"),
            _get("/threads/{thread}/runs/{run}/stream", **{"Last-Event-ID": "-1"}),
            _get("/threads/{thread}/runs/{run}/stream", **{"Last-Event-ID": "0"}),
            _get("/threads/{thread}/runs/{run}/stream?stream_mode=values"),
            _get("/threads/{live}/runs/{live_run}/stream", **{"Last-Event-ID": "-1"}),
            _get("/threads/{live}/runs/{live_run}/stream?cancel_on_disconnect=true"),
            _get("/threads/{bob_thread}/runs/{run}/stream", **{"Last-Event-ID": "-1"}),
        ),
    ),
    ("GET", "/threads/{thread_id}/runs/{run_id}/join"): Foreign(
        404,
        (
            _get("/threads/{thread}/runs/{run}/join"),
            _get("/threads/{live}/runs/{live_run}/join"),
            _get("/threads/{waiting}/runs/{waiting_run}/join"),
        ),
    ),
    ("POST", "/threads/{thread_id}/runs/{run_id}/cancel"): Foreign(
        404,
        (
            _post("/threads/{live}/runs/{live_run}/cancel"),
            _post("/threads/{live}/runs/{live_run}/cancel?wait=true"),
            _post("/threads/{live}/runs/{live_run}/cancel?action=rollback"),
            _post("/threads/{waiting}/runs/{waiting_run}/cancel"),
            _post("/threads/{bob_thread}/runs/{live_run}/cancel"),
        ),
    ),
    ("POST", "/runs/cancel"): Own(_bulk_cancel_spares_alices_runs),
    ("DELETE", "/threads/{thread_id}/runs/{run_id}"): Foreign(
        404,
        (
            _delete("/threads/{thread}/runs/{run}"),
            _delete("/threads/{live}/runs/{live_run}"),
            _delete("/threads/{bob_thread}/runs/{run}"),
            _delete("/threads/{thread}/runs/{bob_run}"),
        ),
    ),
    ("POST", "/runs/batch"): Own(_batch_runs_on_temporary_threads),
    ("POST", "/runs"): Own(_stateless("/runs")),
    ("POST", "/runs/stream"): Own(_stateless("/runs/stream")),
    ("POST", "/runs/wait"): Own(_stateless("/runs/wait")),
    ("POST", "/assistants"): Own(_taken_assistant_ids_say_only_taken),
    ("POST", "/assistants/search"): Own(_assistant_lists_show_bob_none_of_alices),
    ("POST", "/assistants/count"): Own(_assistant_lists_show_bob_none_of_alices),
    ("GET", "/assistants/{assistant_id}"): Own(
        _assistant_routes(_get("/assistants/{assistant}"), shared=_get("/assistants/agent"))
    ),
    ("PATCH", "/assistants/{assistant_id}"): Own(
        _assistant_routes(
            _patch("/assistants/{assistant}", {"name": "bob's now"}),
            _patch("/assistants/{assistant}", {"graph_id": "agent", "metadata": {"x": 1}}),
            shared=_patch("/assistants/agent", {"name": "bob's now"}),
            shared_status=409,
        )
    ),
    ("DELETE", "/assistants/{assistant_id}"): Own(
        _assistant_routes(
            _delete("/assistants/{assistant}"),
            _delete("/assistants/{assistant}?delete_threads=true"),
            shared=_delete("/assistants/agent"),
            shared_status=409,
        )
    ),
    ("POST", "/assistants/{assistant_id}/versions"): Own(
        _assistant_routes(
            _post("/assistants/{assistant}/versions", {}),
            shared=_post("/assistants/agent/versions", {}),
        )
    ),
    ("POST", "/assistants/{assistant_id}/latest"): Own(
        _assistant_routes(
            _post("/assistants/{assistant}/latest", {"version": 1}),
            _post("/assistants/{assistant}/latest", {"version": 2}),
            _post("/assistants/{assistant}/latest", {"version": 7}),
        )
    ),
    ("GET", "/assistants/{assistant_id}/graph"): Own(
        _assistant_routes(
            _get("/assistants/{assistant}/graph"),
            _get("/assistants/{assistant}/graph?xray=true"),
            shared=_get("/assistants/agent/graph"),
        )
    ),
    ("GET", "/assistants/{assistant_id}/schemas"): Own(
        _assistant_routes(
            _get("/assistants/{assistant}/schemas"), shared=_get("/assistants/agent/schemas")
        )
    ),
    ("GET", "/assistants/{assistant_id}/subgraphs"): Own(
        _assistant_routes(
            _get("/assistants/{assistant}/subgraphs?recurse=true"),
            shared=_get("/assistants/agent/subgraphs"),
        )
    ),
    ("GET", "/assistants/{assistant_id}/subgraphs/{namespace}"): Own(
        _assistant_routes(
            _get("/assistants/{assistant}/subgraphs/tools"),
            shared=_get("/assistants/agent/subgraphs/tools"),
        )
    ),
    ("GET", "/ok"): Own(_health_check_is_anonymous),
    ("GET", "/info"): Own(_info_is_anonymous_and_the_same_for_everyone),
    ("POST", "/threads/{thread_id}/runs/crons"): Foreign(
        404,
        (
            _post("/threads/{thread}/runs/crons", CRON),
            _post("/threads/{live}/runs/crons", {**CRON, "enabled": False}),
        ),
    ),
    ("POST", "/runs/crons"): Own(_crons_list_only_bobs),
    ("POST", "/runs/crons/search"): Own(_crons_list_only_bobs),
    ("POST", "/runs/crons/count"): Own(_crons_list_only_bobs),
    ("GET", "/runs/crons/{cron_id}"): Foreign(404, (_get("/runs/crons/{cron}"),)),
    ("PATCH", "/runs/crons/{cron_id}"): Foreign(
        404,
        (
            _patch("/runs/crons/{cron}", {"enabled": False}),
            _patch("/runs/crons/{cron}", {"schedule": "@hourly", "metadata": {"x": 1}}),
        ),
    ),
    ("DELETE", "/runs/crons/{cron_id}"): Foreign(404, (_delete("/runs/crons/{cron}"),)),
    # Each user has a store of their own: the same namespace and key are bob's own item.
    ("GET", "/store/items"): Own(_store_get_finds_nothing),
    ("PUT", "/store/items"): Own(_store_put_writes_bobs_own),
    ("DELETE", "/store/items"): Own(_store_delete_leaves_hers),
    ("POST", "/store/items/search"): Own(_store_search_shows_only_bobs),
    ("POST", "/store/namespaces"): Own(_store_namespaces_are_bobs),
    ("POST", "/threads/{thread_id}/commands"): Own(_agent_commands_reach_nothing_of_hers),
    ("POST", "/ag-ui/{assistant_id}"): Own(_agui_runs_reach_nothing_of_hers),
    ("POST", "/a2a/{assistant_id}"): Own(_a2a_tasks_of_alice_look_unknown),
    ("GET", "/.well-known/agent-card.json"): Own(_agent_cards_show_bob_none_of_alices_assistants),
    ("POST", "/threads/{thread_id}/stream/events"): Foreign(
        404,
        (
            _post("/threads/{thread}/stream/events", {"channels": ["values"]}),
            _post("/threads/{waiting}/stream/events", {"channels": ["input"], "since": 0}),
            _post("/threads/{live}/stream/events", {"channels": ["lifecycle"]}),
        ),
    ),
}
"""Every route of the app → how bob is kept out of alice's objects there."""


def test_every_route_of_the_app_has_an_isolation_case(world: World) -> None:
    # The app's own OpenAPI document lists every route it serves (none is hidden from it).
    document = httpx.get(f"{world.stack.url}/openapi.json").json()
    routes = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }

    assert routes - CASES.keys() == set(), "routes without an isolation case"
    assert CASES.keys() - routes == set(), "cases for routes the app does not serve"


def _shape(response: httpx.Response, ids: Ids) -> tuple[int, dict[str, str], str]:
    headers = {k: ids.blank(v) for k, v in response.headers.items() if k != "date"}
    return response.status_code, headers, ids.blank(response.text)


@pytest.mark.parametrize("route", list(CASES), ids=" ".join)
async def test_bob_gets_nothing_of_alices(
    world: World, bob: httpx.AsyncClient, alice: httpx.AsyncClient, route: tuple[str, str]
) -> None:
    case = CASES[route]
    if isinstance(case, Own):
        await case.check(world, bob, alice)
        return
    unknown = world.ids.unknown()
    for probe in case.probes:
        theirs = await probe(bob, world.ids)
        nobodys = await probe(bob, unknown)
        assert _shape(theirs, world.ids) == _shape(nobodys, unknown)
        assert theirs.status_code == case.status, theirs.text
        detail = theirs.json()["detail"]
        assert isinstance(detail, str) and detail.endswith("not found")


async def test_a_run_with_alices_assistant_is_refused_as_with_an_unknown_one(
    world: World, bob: httpx.AsyncClient
) -> None:
    ids = world.ids
    for aid in (ids.assistant, ids.unknown().assistant):
        for path in (f"/threads/{ids.bob_thread}/runs/wait", "/runs/wait"):
            answer = await bob.post(path, json={**RUN, "assistant_id": aid})
            assert (answer.status_code, answer.json()) == (
                404,
                {"detail": f"Assistant {aid} not found"},
            )
    assert len((await bob.get(f"/threads/{ids.bob_thread}/runs")).json()) == 1


async def test_a_run_on_bobs_own_thread_cannot_reach_alices_checkpoints(
    world: World, bob: httpx.AsyncClient
) -> None:
    ids = world.ids
    aimed = {"thread_id": ids.thread, "checkpoint_id": ids.checkpoint, "checkpoint_ns": ""}
    waited = await bob.post(
        f"/threads/{ids.bob_thread}/runs/wait",
        json={**RUN, "config": {"configurable": aimed}},
    )
    history = await bob.post(
        f"/threads/{ids.bob_thread}/history", json={"checkpoint": aimed, "before": aimed}
    )
    state = await bob.get(f"/threads/{ids.bob_thread}/state")

    assert waited.status_code == 200, waited.text
    for answer in (waited, history, state):
        assert "banana" not in answer.text and ids.checkpoint not in answer.text
    assert state.json()["values"]["messages"][-1]["content"] == "You said: show me what alice has"


def _is_not_found(error: BaseException) -> None:
    # Calls that wait (cancel with wait) raise httpx's error, the others its NotFoundError.
    assert isinstance(error, httpx.HTTPStatusError) and error.response.status_code == 404
    assert error.response.json()["detail"].endswith("not found")


def test_the_sync_sdk_finds_none_of_alices_objects(world: World) -> None:
    ids = world.ids
    bob = get_sync_client(url=world.stack.url, headers=world.auth("bob"))
    for attempt in (
        lambda: bob.threads.get(ids.thread),
        lambda: bob.threads.get_state(ids.waiting),
        lambda: bob.threads.get_history(ids.thread),
        lambda: bob.threads.delete(ids.live),
        lambda: bob.runs.list(ids.live),
        lambda: bob.runs.get(ids.live, ids.live_run),
        lambda: bob.runs.cancel(ids.live, ids.live_run, wait=True),
        lambda: bob.runs.join(ids.thread, ids.run),
        lambda: bob.runs.create(
            ids.live, "agent", input=RUN["input"], multitask_strategy="interrupt"
        ),
        lambda: bob.runs.create(ids.waiting, "agent", command={"resume": {"approved": True}}),
        lambda: list(bob.runs.join_stream(ids.thread, ids.run, last_event_id="-1")),
        lambda: list(bob.runs.stream(ids.thread, "agent", input=RUN["input"])),
    ):
        with pytest.raises(httpx.HTTPStatusError) as raised:
            attempt()
        _is_not_found(raised.value)
    assert {t["thread_id"] for t in bob.threads.search(limit=100)} & {
        ids.thread,
        ids.waiting,
        ids.live,
    } == set()


async def test_the_async_sdk_finds_none_of_alices_objects(world: World) -> None:
    ids = world.ids
    bob = get_client(url=world.stack.url, headers=world.auth("bob"))
    attempts: list[Callable[[], Awaitable[Any]]] = [
        lambda: bob.threads.get(ids.waiting),
        lambda: bob.threads.get_state(ids.live),
        lambda: bob.runs.get(ids.thread, ids.run),
        lambda: bob.runs.cancel(ids.live, ids.live_run, action="rollback"),
        lambda: bob.runs.join(ids.live, ids.live_run),
        lambda: bob.runs.create(
            ids.live, "agent", input=RUN["input"], multitask_strategy="rollback"
        ),
        lambda: bob.runs.create(ids.waiting, "agent", command={"resume": {"approved": False}}),
    ]
    for attempt in attempts:
        with pytest.raises(httpx.HTTPStatusError) as raised:
            await attempt()
        _is_not_found(raised.value)
    with pytest.raises(NotFoundError):
        async for _ in bob.runs.join_stream(ids.live, ids.live_run, last_event_id="-1"):
            pass
    with pytest.raises(NotFoundError):
        async for _ in bob.runs.stream(ids.waiting, "agent", command={"resume": True}):
            pass


async def test_alices_objects_are_as_she_left_them_and_her_run_finishes(
    world: World, alice: httpx.AsyncClient, bob: httpx.AsyncClient
) -> None:
    ids = world.ids
    live = f"/threads/{ids.live}/runs/{ids.live_run}"
    # Bob's attempts (again, in case this test runs alone) while her run is still going.
    assert (await alice.get(live)).json()["status"] == "running"
    await bob.post(f"{live}/cancel")
    await bob.post(f"/threads/{ids.live}/runs", json={**RUN, "multitask_strategy": "interrupt"})
    await bob.delete(f"/threads/{ids.thread}")
    assert (await alice.get(live)).json()["status"] == "running"

    GATE.set()
    values = (await alice.get(f"{live}/join")).json()
    runs = (await alice.get(f"/threads/{ids.live}/runs")).json()

    assert [(r["run_id"], r["status"]) for r in runs] == [(ids.live_run, "success")]
    assert values["messages"][-1]["content"] == RELEASED
    with httpx.Client(base_url=world.stack.url, headers=world.auth("alice"), timeout=30) as http:
        after = await asyncio.to_thread(_alice_snapshot, http, ids)
    assert after == world.before
