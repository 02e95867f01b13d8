"""Settings: what the environment may say, and the error a bad value gets at start-up."""

from __future__ import annotations

import pytest

from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings


def test_unset_and_empty_variables_keep_the_defaults() -> None:
    assert Settings.from_env({}) == Settings()
    assert Settings.from_env({"LAMBDAGRAPH_RUN_LEASE_SECONDS": "", "OTHER": "x"}) == Settings()
    assert Settings().checkpoint_bucket is None and Settings().run_lease_seconds == 30.0


def test_good_values_parse_to_their_types() -> None:
    settings = Settings.from_env(
        {
            "LAMBDAGRAPH_APP_TABLE": "prod-app",
            "LAMBDAGRAPH_CHECKPOINT_BUCKET": "blobs",
            "LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS": "86400",
            "LAMBDAGRAPH_RUN_LEASE_SECONDS": "2.5",
            "LAMBDAGRAPH_CANCEL_POLL_INTERVAL": "1",
            "LAMBDAGRAPH_SCRIPTED_DELAY_MS": "0",
            "LAMBDAGRAPH_LOCAL_WORKER_TIMEOUT_SECONDS": "0",
            "LAMBDAGRAPH_MODEL": "bedrock",
            "LAMBDAGRAPH_AUTH_MODE": "jwt",
            "LAMBDAGRAPH_LOG_LEVEL": "DEBUG",
            "LAMBDAGRAPH_GRAPHS": "a=pkg.mod:graph, b=other:make",
        }
    )

    assert (settings.app_table, settings.checkpoint_bucket) == ("prod-app", "blobs")
    assert settings.checkpoint_ttl_seconds == 86_400
    assert (settings.run_lease_seconds, settings.cancel_poll_interval) == (2.5, 1.0)
    assert (settings.scripted_delay_ms, settings.local_worker_timeout_seconds) == (0, 0.0)
    assert (settings.model, settings.auth_mode, settings.log_level) == ("bedrock", "jwt", "DEBUG")
    assert settings.graphs == "a=pkg.mod:graph, b=other:make"


def test_choices_ignore_case_and_surrounding_spaces() -> None:
    settings = Settings.from_env(
        {
            "LAMBDAGRAPH_MODEL": " Bedrock ",
            "LAMBDAGRAPH_AUTH_MODE": "NONE",
            "LAMBDAGRAPH_LOG_LEVEL": "debug",
        }
    )

    assert (settings.model, settings.auth_mode, settings.log_level) == ("bedrock", "none", "DEBUG")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("LAMBDAGRAPH_RUN_LEASE_SECONDS", "x", "LAMBDAGRAPH_RUN_LEASE_SECONDS='x' is not a number"),
        (
            "LAMBDAGRAPH_HEARTBEAT_SECONDS",
            "nan",
            "LAMBDAGRAPH_HEARTBEAT_SECONDS='nan' is not a finite number",
        ),
        ("LAMBDAGRAPH_MAX_BODY_BYTES", "6MB", "LAMBDAGRAPH_MAX_BODY_BYTES='6MB' is not an integer"),
        (
            "LAMBDAGRAPH_WS_BATCH_WINDOW_MS",
            "2.5",
            "LAMBDAGRAPH_WS_BATCH_WINDOW_MS='2.5' is not an integer",
        ),
        ("LAMBDAGRAPH_SCRIPTED_DELAY_MS", "-5", "LAMBDAGRAPH_SCRIPTED_DELAY_MS='-5' is negative"),
        (
            "LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS",
            "-1",
            "LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS='-1' is negative",
        ),
        ("LAMBDAGRAPH_DEADLINE_MARGIN_MS", "-1", "LAMBDAGRAPH_DEADLINE_MARGIN_MS='-1' is negative"),
        ("LAMBDAGRAPH_RUN_LEASE_SECONDS", "0", "LAMBDAGRAPH_RUN_LEASE_SECONDS='0' is not positive"),
        (
            "LAMBDAGRAPH_CANCEL_POLL_INTERVAL",
            "0",
            "LAMBDAGRAPH_CANCEL_POLL_INTERVAL='0' is not positive",
        ),
        ("LAMBDAGRAPH_WS_BATCH_BYTES", "0", "LAMBDAGRAPH_WS_BATCH_BYTES='0' is not positive"),
        (
            "LAMBDAGRAPH_STREAM_QUEUE_EVENTS",
            "0",
            "LAMBDAGRAPH_STREAM_QUEUE_EVENTS='0' is not positive",
        ),
        (
            "LAMBDAGRAPH_SLOW_CONSUMER_SECONDS",
            "0",
            "LAMBDAGRAPH_SLOW_CONSUMER_SECONDS='0' is not positive",
        ),
        (
            "LAMBDAGRAPH_RUN_TIMEOUT_SECONDS",
            "-1",
            "LAMBDAGRAPH_RUN_TIMEOUT_SECONDS='-1' is negative",
        ),
        (
            "LAMBDAGRAPH_EVENT_LOG_TTL_SECONDS",
            "0",
            "LAMBDAGRAPH_EVENT_LOG_TTL_SECONDS='0' is not positive",
        ),
        (
            "LAMBDAGRAPH_MODEL",
            "gpt",
            "Unknown model: LAMBDAGRAPH_MODEL='gpt' is not one of: scripted, bedrock",
        ),
        (
            "LAMBDAGRAPH_AUTH_MODE",
            "basic",
            "Unknown auth_mode: LAMBDAGRAPH_AUTH_MODE='basic' is not one of: "
            "none, jwt, iam, custom",
        ),
        (
            "LAMBDAGRAPH_LOG_LEVEL",
            "LOUD",
            (
                "Unknown log_level: LAMBDAGRAPH_LOG_LEVEL='LOUD' is not one of: "
                "DEBUG, INFO, WARNING, ERROR, CRITICAL"
            ),
        ),
        (
            "LAMBDAGRAPH_GRAPHS",
            "mine=pkg.mod",
            "LAMBDAGRAPH_GRAPHS entry 'mine=pkg.mod' is not of the form 'name=module.path:attr'",
        ),
        ("LAMBDAGRAPH_GRAPHS", "a=m:g,a=n:h", "LAMBDAGRAPH_GRAPHS names graph 'a' twice"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({variable: value})

    assert str(caught.value) == message


def test_every_bad_value_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Settings.from_env({"LAMBDAGRAPH_MODEL": "gpt", "LAMBDAGRAPH_RUN_LEASE_SECONDS": "x"})

    assert "LAMBDAGRAPH_MODEL='gpt'" in str(caught.value)
    assert "LAMBDAGRAPH_RUN_LEASE_SECONDS='x' is not a number" in str(caught.value)


def test_keyword_values_are_validated_the_same_way() -> None:
    with pytest.raises(ConfigurationError, match=r"^LAMBDAGRAPH_SCRIPTED_DELAY_MS=-5 is negative$"):
        Settings(scripted_delay_ms=-5)
    with pytest.raises(ConfigurationError, match=r"^LAMBDAGRAPH_APP_TABLE=5 is not a string$"):
        Settings(app_table=5)
    with pytest.raises(ConfigurationError, match="'app_tabel' is not a setting"):
        Settings(app_tabel="x")


def test_from_env_reads_the_process_environment_and_the_constructor_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LAMBDAGRAPH_MODEL", "bedrock")
    monkeypatch.setenv("LAMBDAGRAPH_SCRIPTED_DELAY_MS", "7")

    assert (Settings.from_env().model, Settings.from_env().scripted_delay_ms) == ("bedrock", 7)
    assert (Settings().model, Settings().scripted_delay_ms) == ("scripted", 20)


def test_settings_are_frozen_and_replace_validates() -> None:
    settings = Settings(app_table="dev-app")

    with pytest.raises(ValueError, match="frozen"):
        settings.app_table = "other"
    changed = settings.replace(ws_endpoint="http://127.0.0.1:9/ws")
    assert (changed.app_table, changed.ws_endpoint) == ("dev-app", "http://127.0.0.1:9/ws")
    assert settings.ws_endpoint == ""
    with pytest.raises(
        ConfigurationError, match="LAMBDAGRAPH_RUN_LEASE_SECONDS=-1 is not positive"
    ):
        settings.replace(run_lease_seconds=-1)
