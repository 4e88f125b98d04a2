"""Prefect's start-up failures, as Prefect 3.9 words them, become one line."""

from __future__ import annotations

import pytest

from cli.prefect_env import startup_failure


def test_temporary_api_timeout_names_the_variable_and_the_server_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    message = startup_failure(
        RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server.")
    )
    assert message is not None
    assert "did not start within 120 s" in message
    assert "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS" in message
    assert "ingest server start" in message


def test_temporary_api_that_exited_says_so() -> None:
    message = startup_failure(
        RuntimeError(
            "Timed out while attempting to connect to ephemeral Prefect API server. "
            "Ephemeral server process exited with code 3. stdout: ... stderr: ..."
        )
    )
    assert message is not None
    assert "exited with code 3 while starting" in message
    assert "stdout" not in message


def test_failure_found_behind_a_wrapping_error() -> None:
    try:
        try:
            raise RuntimeError("Failed to reach API at http://127.0.0.1:9/api/")
        except RuntimeError as inner:
            raise ValueError("wrapped") from inner
    except ValueError as outer:
        message = startup_failure(outer)
    assert message is not None
    assert message.startswith("cannot reach the Prefect API at http://127.0.0.1:9/api:")


@pytest.mark.parametrize(
    "error", [RuntimeError("something else"), ValueError("Failed to reach API at x")]
)
def test_other_errors_are_not_mapped(error: Exception) -> None:
    assert startup_failure(error) is None
