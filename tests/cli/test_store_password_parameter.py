"""A store password never becomes a flow parameter (Prefect keeps parameters in plain
text and shows them in the UI): a local run hands it to the driver through PGPASSWORD,
a submitted run or a parameter set in the UI is refused without echoing it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from cli.options import RunArgs
from cli.parameters import run_options
from flows.params import RunOptions
from tests.cli.test_cli import ingest

SECRET = "s3cret-Pa55"
URL = f"postgresql://ingest:{SECRET}@127.0.0.1:5432/docs"
OPTIONS = {"batch_size": 10, "batch_concurrency": 1, "workers": 1, "full": False, "strict": False}


@pytest.mark.parametrize("store", [URL, "postgresql://ingest@127.0.0.1/docs?password=" + SECRET])
def test_a_run_parameter_refuses_a_store_password_without_echoing_it(store: str) -> None:
    with pytest.raises(ValidationError) as raised:
        RunOptions(store=store)
    [error] = raised.value.errors()
    assert "PGPASSWORD" in error["msg"]
    assert SECRET not in error["msg"]


def test_a_store_url_without_a_password_is_a_parameter_as_given() -> None:
    assert RunOptions(store="postgresql://ingest@127.0.0.1/docs").store == (
        "postgresql://ingest@127.0.0.1/docs"
    )
    assert RunOptions(store="data/ingest.db").store == "data/ingest.db"


def test_a_local_run_moves_the_password_to_the_driver_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PGPASSWORD", "an older one")  # restored after the test
    options = run_options(RunArgs(store=URL, schema=None, **OPTIONS), local=True)
    assert options.store == "postgresql://ingest@127.0.0.1:5432/docs"
    assert SECRET not in options.model_dump_json()
    assert os.environ["PGPASSWORD"] == SECRET


def test_a_submitted_run_refuses_the_password_with_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PGPASSWORD"}
    done = ingest("submit", "fs", str(tmp_path), "--store", URL, env=env, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "PGPASSWORD" in done.stderr
    assert SECRET not in done.stdout + done.stderr
