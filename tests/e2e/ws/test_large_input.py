"""A run whose input went to the checkpoint bucket (over HTTP: a WebSocket message cannot
carry 350 KB) is followed over the WebSocket like any other: the ``ws`` side reads it back."""

from __future__ import annotations

import httpx

from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth, user_message
from tests.e2e.ws.conftest import Socket, events_of


async def test_a_websocket_subscribe_follows_an_http_run_with_500_kb_of_input(
    stack: LocalStack, alice: Socket
) -> None:
    # "count to 3" keeps the answer short: echoing 500 KB word by word takes the scripted
    # model ~12 s of CPU with no event to send, which a loaded machine stretches past the
    # socket's 20 s read timeout.
    text = "count to 3. " + "a long pasted document " * (500_000 // 23)
    async with httpx.AsyncClient(base_url=stack.url, headers=auth("alice"), timeout=30) as http:
        thread_id = (await http.post("/threads", json={})).json()["thread_id"]
        started = await http.post(
            f"/threads/{thread_id}/runs",
            json={"assistant_id": "agent", "input": user_message(text)},
        )
        assert started.status_code == 200, started.text
        run_id = started.json()["run_id"]

        await alice.send({"action": "subscribe", "run_id": run_id, "thread_id": thread_id})
        messages = await alice.until_ended(run_id)
        recorded = (await http.get(f"/threads/{thread_id}/runs/{run_id}")).json()

    assert messages[-1] == {
        "v": 1,
        "type": "run.ended",
        "run_id": run_id,
        "status": "success",
        "usage": recorded["usage"],
    }
    events = events_of(messages)
    assert events[0]["event"] == "metadata" and events[0]["data"]["run_id"] == run_id
    # The state holding the 500 KB message cannot be one WebSocket message: it is named, not
    # sent, and the run still ends normally.
    too_large = [m for m in messages if m["type"] == "error"]
    assert too_large and {m["code"] for m in too_large} == {"event_too_large"}
    assert recorded["kwargs"]["input"] == user_message(text)
