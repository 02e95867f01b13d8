"""``GET /ok`` and ``GET /info``, the routes clients (Studio, the SDK) probe first."""

from __future__ import annotations

import httpx


def test_ok_answers_ok(http: httpx.Client) -> None:
    response = http.get("/ok")
    assert response.status_code == 200
    # LangGraph Server 0.16.7 adds "services": {}; "ok" is what clients read.
    assert response.json()["ok"] is True


def test_info_reports_version_and_feature_flags(http: httpx.Client) -> None:
    response = http.get("/info")
    assert response.status_code == 200
    info = response.json()
    assert isinstance(info["version"], str) and info["version"]
    assert isinstance(info["langgraph_py_version"], str) and info["langgraph_py_version"]
    flags = info["flags"]
    # Studio enables assistant editing and the cron tab from these two flags.
    assert flags["assistants"] is True
    assert flags["crons"] is True
    assert isinstance(flags["langsmith"], bool)
    assert set(info["host"]) >= {"kind", "project_id", "revision_id"}
