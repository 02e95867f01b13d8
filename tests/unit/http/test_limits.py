"""Which HTTP routes count a request in the run's own write, and the settings' limits."""

from __future__ import annotations

from fastapi.routing import APIRoute

from lambdagraph.http import background, runs
from lambdagraph.http.limits import RUN_ROUTES
from lambdagraph.settings import Settings
from lambdagraph.store.app import AppStore


def test_the_run_routes_named_by_the_limit_are_the_routes_that_record_runs() -> None:
    served = {
        (method, route.path)
        for router in (runs.router, background.router)
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
        if method == "POST"
        and route.path.endswith(("/runs", "/runs/stream", "/runs/wait", "/runs/batch"))
    }
    # A renamed run route would otherwise be counted twice, or a new one not at all.
    assert served == RUN_ROUTES


def test_the_store_takes_its_limits_from_the_settings() -> None:
    settings = Settings(max_active_runs_per_user=3, requests_per_minute_per_user=120)
    store = AppStore.from_settings(settings)
    assert (store.limits.max_active_runs, store.limits.requests_per_minute) == (3, 120)
    default = AppStore.from_settings(Settings())
    assert (default.limits.max_active_runs, default.limits.requests_per_minute) == (0, 0)
