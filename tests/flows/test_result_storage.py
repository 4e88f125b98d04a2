"""Result storage beyond the local folder: an fsspec URL or a saved Prefect filesystem
block receives the batch results, and a retry (in this process or on "another
machine": a process with its own homes) finds them there."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from flows.adapters._prefect_compat import saved_block_id
from tests.flows.test_flow_filesystem import CountingBatches, run_flow, write_files
from tests.support.paths import REPO_ROOT

BATCHES = 5


def persisted(folder: Path) -> list[Path]:
    return sorted(folder.glob("ingest-batch-*")) if folder.exists() else []


def ingest_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=300,
        check=False,
    )


def other_machine_env(prefect_api: str, root: Path) -> dict[str, str]:
    """A process that shares only the API, the store and the result storage."""
    env = dict(os.environ)
    env.update(
        PREFECT_API_URL=prefect_api,
        PREFECT_HOME=str(root / "prefect"),
        INGEST_HOME=str(root / "home"),
        INGEST_RESULTS_DIR=str(root / "results"),
        PYTHONPATH=str(REPO_ROOT),
    )
    env.pop("INGEST_STORE", None)
    env.pop("INGEST_RESULT_STORAGE", None)
    return env


def task_states(flow_run_id: str, expected: int) -> list[str]:
    """The final states of the flow run's task runs, once all `expected` are recorded."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    async def read() -> list[str]:
        async with get_client() as client:
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            )
        return [run.state.name for run in runs if run.state and run.state.is_final()]

    states: list[str] = []
    for _ in range(60):
        states = asyncio.run(read())
        if len(states) >= expected:
            break
        asyncio.run(asyncio.sleep(0.5))
    return sorted(states)


# --- locations, without Prefect's API -------------------------------------------------


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("s3://key:hunter2@bucket/results", "s3://bucket/results"),
        ("https://user:hunter2@host/dav/results", "https://host/dav/results"),
        ("s3://bucket/results?token=hunter2", "s3://bucket/results?token=***"),
        ("file:///srv/results", "file:///srv/results"),
        ("/srv/results", "/srv/results"),
        ("block:remote-file-system/shared", "block:remote-file-system/shared"),
    ],
)
def test_locations_are_shown_without_credentials(location: str, shown: str) -> None:
    from flows.adapters.results import describe

    assert describe(location) == shown
    assert "hunter2" not in describe(location)


@pytest.mark.parametrize(
    "location",
    ["s3://key:hunter2@bucket/results", "https://host/results?api_key=hunter2"],
)
def test_a_run_parameter_refuses_credentials_without_echoing_them(location: str) -> None:
    from pydantic import ValidationError

    from flows.params import RunOptions

    with pytest.raises(ValidationError) as raised:
        RunOptions(result_storage=location)
    [error] = raised.value.errors()
    assert "Prefect block" in error["msg"]
    assert "hunter2" not in error["msg"]


def test_locations_become_what_prefect_takes_without_saving_anything(tmp_path: Path) -> None:
    from prefect.filesystems import RemoteFileSystem

    from flows.adapters.results import check_storage
    from ingest.errors import ConfigurationError

    assert check_storage(str(tmp_path / "results")) == tmp_path / "results"
    assert check_storage((tmp_path / "shared").as_uri()) == tmp_path / "shared"
    remote = check_storage("memory://bucket/results")
    assert isinstance(remote, RemoteFileSystem)
    assert remote.basepath == "memory://bucket/results"
    assert saved_block_id(remote) is None
    with pytest.raises(ConfigurationError, match="no fsspec filesystem for 'nosuchfs'"):
        check_storage("nosuchfs://bucket/results")
    with pytest.raises(ConfigurationError, match="expected block:TYPE/NAME"):
        check_storage("block:shared")
    with pytest.raises(ConfigurationError, match="names a local folder"):
        check_storage("file://fileserver/share/results")


def test_the_setting_is_the_default_and_never_leaks_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.adapters.results import check_storage
    from ingest.errors import ConfigurationError
    from ingest.settings import IngestSettings

    monkeypatch.setenv("INGEST_RESULT_STORAGE", "s3://key:hunter2@bucket/results")
    settings = IngestSettings()
    assert settings.result_location("file:///elsewhere") == "file:///elsewhere"
    with pytest.raises(ConfigurationError) as raised:
        check_storage(settings.result_location())
    assert "s3://bucket/results" in str(raised.value)
    assert "hunter2" not in str(raised.value)
    monkeypatch.delenv("INGEST_RESULT_STORAGE")
    assert IngestSettings().result_location() == str(IngestSettings().resolved_results_dir())


@pytest.mark.prefect
def test_an_fsspec_url_is_kept_as_a_saved_remote_file_system_block(prefect_api: str) -> None:
    from prefect.filesystems import RemoteFileSystem

    from flows.adapters.results import resolve_storage

    first = resolve_storage("memory://ingest-tests/results")
    again = resolve_storage("memory://ingest-tests/results")
    assert isinstance(first, RemoteFileSystem)
    assert saved_block_id(first) is not None, "Prefect reads results back by block id"
    assert saved_block_id(again) == saved_block_id(first)
    loaded = RemoteFileSystem.load(first._block_document_name)
    assert loaded.basepath == "memory://ingest-tests/results"


# --- real runs ------------------------------------------------------------------------


@pytest.mark.prefect
def test_a_block_receives_the_results_and_the_retry_finds_them_there(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.filesystems import LocalFileSystem

    shared = tmp_path / "shared-results"
    LocalFileSystem(basepath=str(shared)).save("ingest-shared-results", overwrite=True)
    folder = tmp_path / "notes"
    write_files(folder, 10 * BATCHES)
    store = tmp_path / "store.db"
    counter = CountingBatches(monkeypatch, fail_names={"note023.md"})
    location = "block:local-file-system/ingest-shared-results"

    state, first = run_flow(folder, store, batch_size=10, retries=0, result_storage=location)
    assert state.is_failed()
    assert first["counts"]["failed"] == 1
    assert counter.executions == BATCHES
    assert len(persisted(shared)) == BATCHES - 1, "one result per completed batch"
    assert not persisted(isolated_results), "nothing in the default folder"

    counter.fail_names.clear()
    counter.executions = 0
    state, second = run_flow(folder, store, batch_size=10, retries=0, result_storage=location)
    assert state.is_completed(), second
    assert counter.executions == 1, "only the failed batch runs again"
    assert second["counts"]["new"] == 10 * BATCHES
    assert len(persisted(shared)) == BATCHES


@pytest.mark.prefect
def test_a_file_url_elsewhere_serves_a_retry_from_another_machine(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "elsewhere" / "results"
    url = shared.as_uri()
    folder = tmp_path / "notes"
    write_files(folder, 10 * BATCHES)
    store = tmp_path / "store.db"
    CountingBatches(monkeypatch, fail_names={"note007.md"})  # fails one batch

    state, first = run_flow(folder, store, batch_size=10, retries=0, result_storage=url)
    assert state.is_failed()
    assert first["counts"]["failed"] == 1
    assert len(persisted(shared)) == BATCHES - 1
    assert not persisted(isolated_results)

    # Another machine: its own Prefect and ingest homes, the same API, store and URL.
    env = other_machine_env(prefect_api, tmp_path / "machine-b")
    done = ingest_cli(
        "fs", str(folder), "--store", str(store), "--batch-size", "10",
        "--result-storage", url, "--json", env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["counts"]["new"] == 10 * BATCHES
    states = task_states(report["run_id"], BATCHES)
    assert states == ["Cached"] * (BATCHES - 1) + ["Completed"], states
    assert not persisted(tmp_path / "machine-b" / "results")
    assert len(persisted(shared)) == BATCHES


@pytest.mark.prefect
def test_an_unknown_block_is_exit_2_before_any_work(prefect_api: str, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    write_files(folder, 3)
    store = tmp_path / "store.db"
    env = other_machine_env(prefect_api, tmp_path / "machine")
    for location, message in [
        ("block:remote-file-system/no-such-block", "no such block"),
        ("s3://key:hunter2@bucket/results", "Prefect block"),
    ]:
        done = ingest_cli(
            "fs", str(folder), "--store", str(store), "--result-storage", location, env=env
        )
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert message in done.stderr
        assert "hunter2" not in done.stderr + done.stdout
        assert not store.exists(), "nothing may be written"
