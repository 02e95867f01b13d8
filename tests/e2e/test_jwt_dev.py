"""``lambdagraph dev --auth jwt`` as a user runs it: its banner's commands (a token from the
local issuer, then a chat with it) work in a shell, and a chat without a token is refused."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading

import pytest

from tests.conftest import Tables
from tests.e2e.test_dev import ROOT, VENV_SCRIPT, _dev_env, _lines


def _banner(process: subprocess.Popen[str]) -> list[str]:
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    printed: list[str] = []
    while not printed or not printed[-1].startswith("Try"):
        printed.append(lines.get(timeout=60))
    printed.append(lines.get(timeout=10))
    return printed


@pytest.mark.skipif(not VENV_SCRIPT.exists(), reason="the banner names the repository's .venv")
def test_dev_auth_jwt_banner_commands_work_and_no_token_is_refused(tables: Tables) -> None:
    env = _dev_env(tables)
    env.pop("LAMBDAGRAPH_JWT_ISSUER", None)
    process = subprocess.Popen(
        [str(VENV_SCRIPT), "dev", "--auth", "jwt", "--port", "0"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        printed = _banner(process)
        url = printed[0].split()[2]
        token_line = next(line for line in printed if line.startswith("Tokens"))
        token = subprocess.run(
            ["bash", "-c", token_line.removeprefix("Tokens")], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )
        chat = subprocess.run(
            ["bash", "-c", printed[-2].removeprefix("Try")], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )
        anonymous = subprocess.run(
            [str(VENV_SCRIPT), "chat", "--url", url, "hello"], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=60, check=False,
        )
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=30)

    banner = "".join(printed)
    assert f"Auth       jwt: local issuer {url}/.local-oidc" in banner
    assert token.returncode == 0 and token.stdout.count(".") == 2  # header.payload.signature
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
    assert anonymous.returncode == 1 and "Missing bearer token" in anonymous.stderr
