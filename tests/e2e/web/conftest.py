"""A browser (Debian's chromium through Playwright, never a downloaded one) on a local stack."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import stack_settings

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
"""Screenshots of each browser test (gitignored; README's two come from here)."""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run `make chromium` (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def web_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """One stack (auth ``none``) for a module; 15 ms per scripted chunk, so runs are watchable."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    settings = stack_settings(tables, scripted_delay_ms=15)
    with running_stack(settings=settings) as running:
        yield running


@pytest.fixture
def page(browser: Browser, web_stack: LocalStack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A fresh tab on the chat page; its screenshot lands in test-artifacts/ afterwards."""
    context = browser.new_context(viewport={"width": 1100, "height": 760})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    tab.goto(f"{web_stack.url}/")
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def save(page: Page, name: str) -> Path:
    """Save a screenshot as test-artifacts/<name>.png."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

