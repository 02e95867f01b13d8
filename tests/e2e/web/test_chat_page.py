"""The chat page in a real browser against the local stack: what a person sees and clicks."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import Browser, Page, Route, expect

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings
from tests.e2e.web.conftest import save

# Counts every change of the latest answer's text, so a test can tell streaming from one paint.
WATCH_ANSWERS = """() => {
  window.answerLengths = [];
  new MutationObserver(() => {
    const answers = document.querySelectorAll('.msg.ai');
    if (answers.length) window.answerLengths.push(answers[answers.length - 1].textContent.length);
  }).observe(document.getElementById('log'), {subtree: true, childList: true, characterData: true});
}"""


def ask(page: Page, text: str) -> None:
    page.get_by_label("Message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def thread_id(page: Page) -> str:
    match = re.search(r"thread=([0-9a-f-]{36})", page.url)
    assert match, page.url
    return match.group(1)


def answers(page: Page) -> list[str]:
    return page.locator(".msg.ai").all_inner_texts()


def test_the_weather_question_streams_tokens(page: Page, web_stack: LocalStack) -> None:
    page.evaluate(WATCH_ANSWERS)
    ask(page, "weather in Paris")
    expect(page.locator(".msg.ai").last).to_have_text("The weather in Paris is rainy and 18 °C.")
    expect(page.locator(".card.tool")).to_contain_text("get_weather")
    expect(page.locator(".card.tool")).to_contain_text("done")
    expect(page.get_by_role("status")).to_have_text("idle")
    lengths = sorted(set(page.evaluate("window.answerLengths")))
    assert len(lengths) >= 4, f"the answer appeared in {lengths}, not token by token"
    # The thread's tokens and cost as the server records them (the scripted model's price).
    thread_id = page.url.split("#thread=")[1]
    usage = httpx.get(f"{web_stack.url}/threads/{thread_id}").json()["usage"]
    expected = f"Thread {usage['total_tokens']} tokens · ${usage['cost_usd']:.4f}"
    expect(page.get_by_label("Token usage")).to_contain_text(expected)
    expect(page.locator("#threads")).to_contain_text("weather in Paris")
    save(page, "chat-weather")


def test_the_email_request_asks_for_approval_and_approve_sends_it(page: Page) -> None:
    ask(page, "send an email to bob@example.com")
    card = page.get_by_role("group", name="Approve send_email")
    expect(card).to_contain_text("bob@example.com")
    save(page, "chat-approval")
    page.reload()  # the pending approval survives a reload
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.locator(".msg.ai").last).to_have_text("Email sent to bob@example.com.")
    expect(page.get_by_role("button", name="Approve", exact=True)).to_have_count(0)


def test_reject_does_not_send(page: Page) -> None:
    ask(page, "send an email to ann@example.com")
    page.get_by_role("button", name="Reject", exact=True).click()
    expect(page.locator(".msg.ai").last).to_have_text("Email to ann@example.com was not sent.")


def test_stop_cancels_the_run_on_the_server(page: Page, web_stack: LocalStack) -> None:
    ask(page, "count to 400")
    expect(page.locator(".msg.ai").last).to_contain_text("3")
    page.get_by_role("button", name="Stop", exact=True).click()
    expect(page.locator(".notice").last).to_have_text("Stopped.")
    expect(page.get_by_role("button", name="Stop", exact=True)).to_be_hidden()
    runs = httpx.get(f"{web_stack.url}/threads/{thread_id(page)}/runs", timeout=10).json()
    assert [run["status"] for run in runs] == ["interrupted"]
    assert "400" not in answers(page)[-1]


def test_a_reload_mid_run_loses_and_duplicates_nothing(page: Page) -> None:
    ask(page, "count to 120")
    expect(page.locator(".msg.ai").last).to_contain_text("10")
    page.reload()
    expected = " ".join(str(n) for n in range(1, 121))
    expect(page.locator(".msg.ai").last).to_have_text(expected)
    expect(page.get_by_role("status")).to_have_text("idle")
    assert answers(page) == [expected]
    expect(page.locator(".msg.user")).to_have_count(1)


def test_the_websocket_transport_streams_the_same_answer(page: Page) -> None:
    page.get_by_label("WebSocket").check()
    ask(page, "weather in Oslo")
    expect(page.locator(".msg.ai").last).to_contain_text("The weather in Oslo is")
    expect(page.get_by_role("status")).to_have_text("idle")
    assert len(answers(page)) == 1
    page.get_by_label("WebSocket").uncheck()


def test_a_malformed_server_event_shows_an_error_not_a_crash(page: Page) -> None:
    def broken(route: Route) -> None:
        route.fulfill(
            status=200,
            headers={"content-type": "text/event-stream"},
            body='event: messages\ndata: {"type": "event", "seq": 1, oops\n\n',
        )

    page.route("**/stream/events", broken)
    ask(page, "weather in Rome")
    expect(page.get_by_role("alert")).to_contain_text("could not read")
    expect(page.get_by_label("Message")).to_be_editable()
    expect(page.get_by_role("button", name="New thread", exact=True)).to_be_enabled()


def test_threads_can_be_switched_and_deleted_on_a_phone(page: Page) -> None:
    page.set_viewport_size({"width": 390, "height": 800})
    ask(page, "calculate 6 * 7")
    expect(page.locator(".msg.ai").last).to_have_text("6 * 7 = 42")
    first = thread_id(page)
    page.get_by_role("button", name="Threads").first.click()
    page.get_by_role("button", name="New thread", exact=True).click()
    expect(page.locator(".msg")).to_have_count(0)
    page.get_by_role("button", name="Threads").first.click()
    page.get_by_role("button", name="calculate 6 * 7").first.click()
    expect(page.locator(".msg.ai").last).to_have_text("6 * 7 = 42")
    assert thread_id(page) == first
    page.get_by_role("button", name="Threads").first.click()
    page.get_by_role("button", name="Delete thread calculate 6 * 7").first.click()
    expect(page.get_by_role("button", name="Delete thread calculate 6 * 7")).to_have_count(0)


def test_jwt_mode_signs_in_through_the_local_issuers_form(
    browser: Browser, tables: Tables
) -> None:
    settings = stack_settings(tables, scripted_delay_ms=5)
    with running_stack(settings=settings, local_issuer=True) as stack:
        context = browser.new_context()
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        tab.goto(f"{stack.url}/")
        tab.get_by_role("button", name="Sign in", exact=True).click()
        tab.get_by_label("User").fill("alice")
        tab.get_by_role("button", name="Sign in", exact=True).click()
        ask(tab, "weather in Lima")
        expect(tab.locator(".msg.ai").last).to_contain_text("The weather in Lima is")
        tid = thread_id(tab)
        assert httpx.get(f"{stack.url}/threads/{tid}", timeout=10).status_code == 401
        assert stack.issuer is not None
        as_alice = {"Authorization": f"Bearer {stack.issuer.token('alice')}"}
        assert httpx.get(f"{stack.url}/threads/{tid}", headers=as_alice, timeout=10).is_success
        context.close()
