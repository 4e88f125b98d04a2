"""Job management without a server: parameters built for deployment runs, `--at`,
`prefect.yaml` in step with the code, and bad usage of the job commands (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.support.paths import REPO_ROOT, SAMPLES

RUN_ID = "0b0e2a46-6f39-4d7c-9a55-3c1a1c3b7d11"


@pytest.fixture(scope="module")
def cli() -> Any:
    from cli import app, commands  # noqa: F401  (registers the commands)

    return app


@pytest.fixture(scope="module")
def prefect_yaml() -> dict[str, Any]:
    return yaml.safe_load((REPO_ROOT / "prefect.yaml").read_text())


def _options(**overrides: Any) -> Any:
    from cli.options import RunArgs
    from cli.parameters import run_options

    return run_options(RunArgs(**overrides))


# --- parameters -----------------------------------------------------------------------


def test_folder_parameters_are_json_the_flow_accepts(tmp_path: Path) -> None:
    import json

    from cli.submit import folder_parameters
    from flows.filesystem import ingest_filesystem
    from flows.params import FolderSource, RunOptions

    source = FolderSource(path=str(tmp_path), include=["*.md"], hidden=True)
    options = _options(store=str(tmp_path / "s.db"), batch_size=7, full=True, strict=True)
    parameters = folder_parameters(source, options)

    assert json.loads(json.dumps(parameters)) == parameters  # what the API stores
    assert parameters["source"]["path"] == str(tmp_path)
    assert parameters["options"]["validation"]["strict"] is True
    validated = ingest_filesystem.validate_parameters(parameters)
    assert validated["source"] == source
    assert isinstance(validated["options"], RunOptions)
    assert validated["options"] == options


def test_site_parameters_are_json_the_flow_accepts() -> None:
    from cli.submit import site_parameters
    from flows.web import ingest_web
    from ingest.sources.web import WebSourceConfig

    site = WebSourceConfig(seeds=["https://example.com/docs/"], max_pages=12, max_depth=1)
    options = _options(batch_size=50)
    parameters = site_parameters(site, options)
    validated = ingest_web.validate_parameters(parameters)
    assert validated["site"] == site
    assert validated["options"].batch_size == 50


def test_submit_builds_the_parameters_of_ingest_fs(
    cli: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ingest submit fs` takes the options of `ingest fs` and sends the same
    parameters to the deployment, in the queue of its priority."""
    sent: dict[str, Any] = {}

    async def fake_submit(deployment: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
        from deployments.runs import Submitted

        sent.update(deployment=deployment, parameters=parameters, **kwargs)
        return Submitted(RUN_ID, "a-run", deployment, kwargs["queue"], kwargs["scheduled_time"])

    monkeypatch.setattr("deployments.runs.submit", fake_submit)
    folder = tmp_path / "docs"
    folder.mkdir()
    result = CliRunner().invoke(
        cli,
        [
            "submit", "fs", str(folder), "--priority", "HIGH", "--at", "+10m",
            "--exclude", "*.tmp", "--batch-size", "25", "--max-file-size", "1MB",
            "--store", str(tmp_path / "s.db"), "--name", "nightly", "--workers", "2",
            "--task-runner", "process", "--result-storage", str(tmp_path / "results"),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == RUN_ID
    assert sent["deployment"] == "ingest-filesystem/folder"
    assert sent["queue"] == "high"
    assert sent["run_name"] == "nightly"
    assert "priority:high" in sent["tags"]
    delay = sent["scheduled_time"] - datetime.now(UTC)
    assert timedelta(minutes=9) < delay <= timedelta(minutes=10)
    source, options = sent["parameters"]["source"], sent["parameters"]["options"]
    assert source["path"] == str(folder.resolve())
    assert source["exclude"] == ["*.tmp"]
    assert source["max_file_size"] == 1_000_000
    assert options["batch_size"] == 25
    assert options["store"] == str(tmp_path / "s.db")
    assert (options["workers"], options["task_runner"]) == (2, "process")
    assert options["result_storage"] == str(tmp_path / "results")


def test_submit_web_targets_the_site_deployment(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: dict[str, Any] = {}

    async def fake_submit(deployment: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
        from deployments.runs import Submitted

        sent.update(deployment=deployment, parameters=parameters, **kwargs)
        return Submitted(RUN_ID, "a-run", deployment, kwargs["queue"], None)

    monkeypatch.setattr("deployments.runs.submit", fake_submit)
    result = CliRunner().invoke(
        cli,
        ["submit", "web", "https://example.com/", "--priority", "low", "--max-pages", "5",
         "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert '"run_id": "' + RUN_ID in result.stdout
    assert sent["deployment"] == "ingest-web/site"
    assert sent["queue"] == "low"
    assert sent["scheduled_time"] is None
    assert sent["parameters"]["site"]["seeds"] == ["https://example.com/"]
    assert sent["parameters"]["site"]["max_pages"] == 5


# --- --at -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+90s", timedelta(seconds=90)),
        ("10m", timedelta(minutes=10)),
        ("+2h", timedelta(hours=2)),
        ("+1.5d", timedelta(days=1.5)),
    ],
)
def test_at_relative(text: str, expected: timedelta) -> None:
    from cli.submit import parse_when

    now = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
    assert parse_when(text, now) == now + expected


def test_at_absolute_keeps_offsets_and_reads_naive_times_as_local() -> None:
    from cli.submit import parse_when

    assert parse_when("2025-06-01T02:00+02:00") == datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
    local = parse_when("2025-06-01T02:00")
    assert local is not None
    assert local.tzinfo is not None
    assert local == datetime(2025, 6, 1, 2, 0).astimezone()
    assert parse_when(None) is None


def test_at_nonsense_is_a_configuration_error() -> None:
    from cli.submit import parse_when
    from ingest.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="invalid --at"):
        parse_when("tomorrowish")


def test_state_filter_accepts_types_and_names() -> None:
    from deployments.runs import parse_state_filter
    from ingest.errors import ConfigurationError

    assert parse_state_filter("running") == ("RUNNING", None)
    assert parse_state_filter("Cancelled") == ("CANCELLED", None)
    assert parse_state_filter("awaiting-retry") == (None, "AwaitingRetry")
    assert parse_state_filter("late") == (None, "Late")
    with pytest.raises(ConfigurationError, match="unknown state"):
        parse_state_filter("sleepy")


# --- prefect.yaml -----------------------------------------------------------------------


def test_prefect_yaml_matches_the_deployment_specs(prefect_yaml: dict[str, Any]) -> None:
    from deployments.pool import POOL_NAME
    from deployments.specs import SPECS

    deployments = {d["name"]: d for d in prefect_yaml["deployments"]}
    assert set(deployments) == set(SPECS)
    for name, spec in SPECS.items():
        deployment = deployments[name]
        assert deployment["entrypoint"] == spec.entrypoint
        assert deployment["tags"] == spec.tags
        assert deployment["parameters"] == spec.parameters
        assert deployment["work_pool"]["name"] == POOL_NAME
        assert deployment["work_pool"]["work_queue_name"] == "default"
        assert deployment["concurrency_limit"] == {
            "limit": spec.concurrency_limit,
            "collision_strategy": "ENQUEUE",
        }
        [schedule] = deployment["schedules"]
        assert schedule["cron"]
        assert schedule["timezone"]
        assert schedule["active"] is False, "example schedules ship switched off"


def test_prefect_yaml_parameters_are_valid_flow_parameters(prefect_yaml: dict[str, Any]) -> None:
    from flows.filesystem import ingest_filesystem
    from flows.web import ingest_web

    flows = {"folder": ingest_filesystem, "site": ingest_web}
    for deployment in prefect_yaml["deployments"]:
        flows[deployment["name"]].validate_parameters(deployment["parameters"])


def test_prefect_yaml_pulls_into_the_checkout_named_by_the_worker(
    prefect_yaml: dict[str, Any],
) -> None:
    [step] = prefect_yaml["pull"]
    assert step == {
        "prefect.deployments.steps.set_working_directory": {"directory": "{{ $INGEST_CHECKOUT }}"}
    }
    for deployment in prefect_yaml["deployments"]:
        assert (REPO_ROOT / deployment["entrypoint"].split(":")[0]).is_file()


def test_queues_are_in_priority_order() -> None:
    from cli.submit import Priority
    from deployments.pool import QUEUES

    assert list(QUEUES.items()) == [("high", 1), ("default", 2), ("low", 3)]
    assert [p.value for p in Priority] == list(QUEUES)


def test_served_deployments_carry_names_tags_and_parameters() -> None:
    from deployments.serve import served_deployments
    from deployments.specs import SPECS

    served = {d.name: d for d in served_deployments()}
    assert set(served) == set(SPECS)
    for name, spec in SPECS.items():
        deployment = served[name]
        assert deployment.flow_name == spec.flow_name
        assert deployment.tags == spec.tags
        assert deployment.parameters == spec.parameters
        assert deployment.work_pool_name is None
        assert deployment.schedules == []
        assert deployment.concurrency_limit == spec.concurrency_limit
    scheduled = served_deployments(schedules=True)
    assert all(d.schedules and d.schedules[0].schedule.timezone == "UTC" for d in scheduled)


# --- bad usage: exit 2, one line, nothing sent --------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["submit", "fs", "/no/such/folder"], "no such folder"),
        (["submit", "fs", "{file}"], "not a folder"),
        (["submit", "fs", "{folder}", "--at", "tomorrowish"], "invalid --at"),
        (["submit", "fs", "{folder}", "--batch-size", "0"], "batch_size"),
        (["submit", "fs", "{folder}", "--max-file-size", "lots"], "invalid size"),
        (["submit", "fs", "{folder}", "--store", "ftp://example.invalid/x"], "store"),
        (["submit", "fs", "{folder}", "--priority", "urgent"], "urgent"),
        (["submit", "web", "ftp://example.com/"], "http"),
        (["status", "not-a-run"], "not a flow run id"),
        (["cancel", "12345"], "not a flow run id"),
        (["retry", "nope"], "not a flow run id"),
        (["runs", "--state", "sleepy"], "unknown state"),
        (["runs", "--limit", "0"], "limit"),
    ],
)
def test_bad_usage_is_exit_2_before_any_request(
    cli: Any, args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_request(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("bad usage must not reach the API")

    for name in ("submit", "list_runs", "read_run", "cancel", "schedule_retry"):
        monkeypatch.setattr(f"deployments.runs.{name}", no_request)
    folder = tmp_path / "docs"
    folder.mkdir()
    file = folder / "a.md"
    file.write_text("# A\n")
    argv = [a.format(file=file, folder=folder) for a in args]
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 2, result.output
    assert message.lower() in result.stderr.lower()
    assert result.stdout == ""


def _ingest(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from cli import main; main()", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_no_server_configured_is_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env.update(PREFECT_HOME=str(tmp_path / "prefect"), INGEST_HOME=str(tmp_path / "home"))
    run = _ingest("status", RUN_ID, env=env, cwd=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "no Prefect server configured" in run.stderr
    assert "PREFECT_API_URL" in run.stderr


def test_unreachable_server_is_exit_2_and_nothing_is_written(tmp_path: Path) -> None:
    env = dict(
        os.environ,
        PREFECT_API_URL="http://127.0.0.1:9/api",
        PREFECT_HOME=str(tmp_path / "prefect"),
        INGEST_HOME=str(tmp_path / "home"),
    )
    run = _ingest("submit", "fs", str(SAMPLES), "--priority", "low", env=env, cwd=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "cannot reach the Prefect API at http://127.0.0.1:9/api" in run.stderr
    assert run.stdout == ""
    assert not (tmp_path / "home").exists()


def test_submit_web_sends_the_credentials_block_by_name_only(
    cli: Any, prefect_api: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker loads the block from the same API: its name is the parameter, an unknown
    name is exit 2 before anything is queued, and the secret is never sent."""
    from blocks.credentials import BearerTokenCredentials

    secret = "submit-web-Secret-3141"
    BearerTokenCredentials(token=secret).save("submit-docs-token", overwrite=True)
    sent: dict[str, Any] = {}

    async def fake_submit(deployment: str, parameters: dict[str, Any], **kwargs: Any) -> Any:
        from deployments.runs import Submitted

        sent.update(parameters=parameters)
        return Submitted(RUN_ID, "a-run", deployment, kwargs["queue"], None)

    monkeypatch.setattr("deployments.runs.submit", fake_submit)
    unknown = CliRunner().invoke(
        cli, ["submit", "web", "https://example.com/", "--auth", "no-such-credentials"]
    )
    assert unknown.exit_code == 2, unknown.output
    assert "no-such-credentials" in unknown.output
    assert sent == {}

    known = CliRunner().invoke(
        cli, ["submit", "web", "https://example.com/", "--auth", "submit-docs-token"]
    )
    assert known.exit_code == 0, known.output
    assert sent["parameters"]["auth"] == "submit-docs-token"
    assert secret not in repr(sent["parameters"])
