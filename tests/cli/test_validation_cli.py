"""The validation options of `ingest fs` as users run them: a real process, a real store;
bad names and paths exit 2 before any work, a rejected share above the maximum exits 1."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli.test_cli import ingest
from tests.ingest.validators.plugin_dist import VALIDATOR, write_distribution

REPO_ROOT = Path(__file__).resolve().parents[2]
TODO_RULE = "tests.ingest.validators.custom_rules:reject_todo"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "docs"
    root.mkdir()
    for index in range(7):
        (root / f"note{index}.md").write_text(f"# Note {index}\n\nFine.\n")
    (root / "todo.md").write_text("# Todo\n\nTODO: finish.\n")
    (root / "draft.txt").write_text("Intro.\nLorem ipsum dolor sit amet.\n")
    (root / "broken.json").write_text('{"a": ')
    return root


@pytest.fixture
def cli_env(prefect_api: str, tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PREFECT_API_URL=prefect_api,
        INGEST_HOME=str(tmp_path / "home"),
        INGEST_RESULTS_DIR=str(tmp_path / "results"),
        PYTHONPATH=str(REPO_ROOT),
    )
    env.pop("INGEST_STORE", None)
    return env


def _usage_error(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`ingest ARGS` with no Prefect API to reach, checked to be a usage error: exit 2 with
    one line on stderr, nothing on stdout, nothing written."""
    home = tmp_path / "home"
    env = dict(
        os.environ,
        INGEST_HOME=str(home),
        PREFECT_API_URL="http://127.0.0.1:9/api",
        PYTHONPATH=str(REPO_ROOT),
    )
    run = ingest(*args, env=env, cwd=tmp_path)
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert run.stdout == ""
    assert not home.exists(), "nothing may be written on bad usage"
    return run


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--validator", "jsno"], "unknown validator(s) 'jsno'"),
        (["--skip-validator", "csvv"], "unknown validator(s) 'csvv'"),
        (["--custom-validator", "no_such_module_for_ingest:rule"], "cannot import"),
        (["--custom-validator", f"{TODO_RULE}_missing"], "has no attribute"),
        (["--custom-validator", "justaname"], "not a dotted path"),
        (["--max-rejected-share", "1.5"], "max_rejected_share"),
        (["--max-rejected-share", "-0.1"], "max_rejected_share"),
    ],
)
def test_bad_validation_options_exit_2_before_any_work(
    args: list[str], message: str, folder: Path, tmp_path: Path
) -> None:
    run = _usage_error(tmp_path, "fs", str(folder), *args)
    assert message in run.stderr


def test_not_a_number_share_is_a_usage_error(folder: Path, tmp_path: Path) -> None:
    env = dict(os.environ, INGEST_HOME=str(tmp_path / "home"))
    run = ingest("fs", str(folder), "--max-rejected-share", "lots", env=env, cwd=tmp_path)
    assert run.returncode == 2
    assert "--max-rejected-share" in run.stderr


def test_options_become_the_run_options() -> None:
    from cli.options import RunArgs
    from cli.parameters import run_options

    options = run_options(
        RunArgs(
            store=None,
            batch_size=10,
            batch_concurrency=1,
            full=False,
            strict=True,
            schema=None,
            validator=["text", "json"],
            skip_validator=["csv"],
            custom_validator=[TODO_RULE],
            max_rejected_share=0.25,
        )
    )
    policy = options.validation
    assert (policy.enabled, policy.disabled, policy.custom) == (
        ["text", "json"],
        ["csv"],
        [TODO_RULE],
    )
    assert policy.strict is True
    assert options.max_rejected_share == 0.25
    default = run_options(
        RunArgs(store=None, batch_size=10, batch_concurrency=1, full=False, strict=False)
    )
    assert default.validation.enabled == []  # every validator runs
    assert default.validation.is_enabled("csv")
    assert default.max_rejected_share == 1.0  # never fails the run


def _report(run: object) -> dict[str, object]:
    report = json.loads(run.stdout)  # type: ignore[attr-defined]
    assert isinstance(report, dict)
    return report


@pytest.mark.prefect
def test_rejected_share_above_the_maximum_exits_1_under_it_exits_0(
    cli_env: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    common = ["fs", str(folder), "--json", "--custom-validator", TODO_RULE]
    over = ingest(
        *common,
        "--store",
        str(tmp_path / "a.db"),
        "--max-rejected-share",
        "0.1",
        env=cli_env,
        cwd=tmp_path,
    )
    assert over.returncode == 1, over.stderr
    report = _report(over)
    assert report["state"] == "Failed"
    assert report["counts"] == {
        "discovered": 10,
        "new": 8,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": 2,
        "failed": 0,
        "deleted": 0,
    }
    rejected = {r["uri"].rsplit("/", 1)[-1]: r["errors"] for r in report["rejected"]}
    assert rejected["todo.md"] == ["custom: contains TODO"]
    assert rejected["broken.json"][0].startswith("invalid-json at line 1, column 7")
    assert "more than the maximum rejected share of 10.0%" in over.stderr

    under = ingest(
        *common,
        "--store",
        str(tmp_path / "b.db"),
        "--max-rejected-share",
        "0.2",
        env=cli_env,
        cwd=tmp_path,
    )
    assert under.returncode == 0, under.stderr
    assert _report(under)["state"] == "Completed"


@pytest.mark.prefect
def test_entry_point_validator_selected_on_the_command_line_rejects(
    cli_env: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    site = write_distribution(tmp_path / "site")
    env = dict(cli_env, PYTHONPATH=os.pathsep.join([str(site), str(REPO_ROOT)]))
    run = ingest(
        "fs",
        str(folder),
        "--json",
        "--store",
        str(tmp_path / "s.db"),
        "--validator",
        "text",
        "--validator",
        VALIDATOR,
        "--skip-validator",
        "json",
        env=env,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    report = _report(run)
    rejected = {r["uri"].rsplit("/", 1)[-1]: r["errors"] for r in report["rejected"]}
    # json is not validated, so the broken file reaches its processor, which refuses it.
    assert rejected.pop("broken.json")[0].startswith("processing: ")
    assert rejected == {"draft.txt": ["lorem-ipsum at line 2: placeholder text left in"]}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("items.xsd", "<items/>", "invalid XML Schema"),
        ("table.json", '{"columns": {"id": "int"}}', "invalid table schema"),
        ("gone.json", None, "cannot read schema"),
    ],
    ids=["invalid-xsd", "invalid-table-schema", "missing-file"],
)
def test_unusable_schema_exits_2_before_any_work(
    name: str, text: str | None, message: str, folder: Path, tmp_path: Path
) -> None:
    schema = tmp_path / name
    if text is not None:
        schema.write_text(text)
    run = _usage_error(tmp_path, "fs", str(folder), "--schema", f"*={schema}")
    assert message in run.stderr
    assert str(schema) in run.stderr
