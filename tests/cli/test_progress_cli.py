"""Terminal progress: the rich bar on a terminal, plain lines otherwise, stderr only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from cli.progress import (
    PlainProgressListener,
    RichProgressListener,
    terminal_progress,
)
from ingest.progress import ProgressReporter
from tests.support.paths import REPO_ROOT
from tests.support.progress import FakeClock


def _reporter(clock: FakeClock) -> ProgressReporter:
    reporter = ProgressReporter(clock=clock)
    reporter.set_total("fetch", 100)
    reporter.add_total("store", 40)
    return reporter


def test_plain_lines_every_few_seconds_and_at_the_end() -> None:
    clock = FakeClock(start=0.0)
    reporter = _reporter(clock)
    out = StringIO()
    listener = PlainProgressListener(out, interval_s=5.0, clock=clock)
    for second in range(1, 13):  # snapshots every second for 12 s
        clock.now = float(second)
        reporter.advance("fetch", 5)
        reporter.advance("store", 2)
        listener(reporter.snapshot())
    listener(reporter.finish())
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # at 1 s, 6 s, 11 s, and the final one
    assert lines[0].startswith("progress: fetch 5/100 (")
    assert "store 2/40+" in lines[0]
    assert "ETA" in lines[1]
    assert "fetch 60/100" in lines[-1]
    assert "stopped at 60% after 12s" in lines[-1]  # finished with 84 of 140 done


def test_plain_listener_defaults_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    clock = FakeClock(start=0.0)
    reporter = _reporter(clock)
    reporter.advance("fetch")
    PlainProgressListener(clock=clock)(reporter.finish())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "fetch 1/100" in captured.err


def test_rich_listener_draws_a_bar_per_phase() -> None:
    clock = FakeClock(start=0.0)
    reporter = _reporter(clock)
    out = StringIO()
    console = Console(force_terminal=True, file=out, width=110, color_system="standard")
    listener = RichProgressListener(console)
    clock.now = 2.0
    reporter.advance("fetch", 50)
    listener(reporter.snapshot())
    drawn = out.getvalue()
    assert "fetch" in drawn
    assert "store" in drawn
    assert "━" in drawn
    assert "50/100" in drawn
    assert "ETA 2s" in drawn
    assert "25.0/s" in drawn
    listener(reporter.finish())
    assert "done" in out.getvalue()
    listener(reporter.snapshot())  # after the end: nothing more, no error
    listener.close()


def test_terminal_progress_picks_the_bar_only_on_a_terminal() -> None:
    terminal = Console(force_terminal=True, file=StringIO())
    piped = Console(force_terminal=False, file=StringIO())
    assert isinstance(terminal_progress(terminal), RichProgressListener)
    assert isinstance(terminal_progress(piped), PlainProgressListener)


_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from rich.console import Console
    from cli.progress import terminal_progress
    from ingest.progress import ProgressReporter

    listener = terminal_progress(Console(stderr=True), interval_s=0.0)
    with ProgressReporter([listener], max_rate_hz=50) as reporter:
        reporter.set_total("fetch", 30)
        for _ in range(30):
            reporter.advance("fetch")
            time.sleep(0.005)
    print('{"ok": true}')
    """
)


def _run_piped() -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}
    return subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        capture_output=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
        check=True,
    )


def _run_on_a_terminal(
    command: list[str], *, env: dict[str, str], timeout: float, cwd: Path | None = None
) -> tuple[int, str, bytes]:
    """Run `command` with its stderr on a pseudo-terminal and its stdout piped; its exit
    code, what it drew on the terminal and its stdout."""
    import pty

    leader, follower = pty.openpty()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=follower, env=env, cwd=cwd)
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        stdout, _ = child.communicate(timeout=timeout)
    finally:
        os.close(leader)
        if child.poll() is None:
            child.kill()
    return child.returncode, b"".join(chunks).decode("utf-8", "replace"), stdout


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_under_a_pseudo_terminal_stderr_shows_the_bar_and_stdout_stays_clean() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "TERM": "xterm-256color", "COLUMNS": "100"}
    returncode, terminal, stdout = _run_on_a_terminal(
        [sys.executable, "-c", _SCRIPT], env=env, timeout=60
    )
    assert returncode == 0, terminal
    assert "━" in terminal
    assert "30/30" in terminal
    assert stdout == b'{"ok": true}\n'


def test_piped_stderr_gets_plain_lines_and_stdout_stays_clean() -> None:
    done = _run_piped()
    err = done.stderr.decode()
    assert done.stdout == b'{"ok": true}\n'
    assert "━" not in err
    assert "\x1b[" not in err
    lines = err.splitlines()
    assert lines
    assert all(line.startswith("progress: fetch") for line in lines)
    assert "30/30" in lines[-1]
    assert "done in" in lines[-1]


def _cli_env(prefect_api: str, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_API_URL": prefect_api,
        "INGEST_HOME": str(tmp_path / "home"),
        "INGEST_RESULTS_DIR": str(tmp_path / "results"),
        "PYTHONPATH": str(REPO_ROOT),
        "TERM": "xterm-256color",
        "COLUMNS": "120",
    }
    env.pop("INGEST_STORE", None)
    return env


def _ingest_fs(tmp_path: Path, name: str) -> list[str]:
    from tests.support.paths import SAMPLES

    command = "from cli import main; main()"
    store = tmp_path / f"{name}.db"
    return [sys.executable, "-c", command, "fs", str(SAMPLES), "--store", str(store), "--json"]


@pytest.mark.prefect
@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_ingest_fs_on_a_terminal_draws_every_phase_and_prints_only_json(
    prefect_api: str, tmp_path: Path
) -> None:
    returncode, terminal, stdout = _run_on_a_terminal(
        _ingest_fs(tmp_path, "tty"), env=_cli_env(prefect_api, tmp_path), timeout=300, cwd=tmp_path
    )
    assert returncode == 0, terminal
    report = json.loads(stdout)  # stdout is the report and nothing else
    pending = report["counts"]["discovered"] - report["counts"]["unchanged"]
    assert "━" in terminal
    for phase in ("discover", "fetch", "validate", "process", "store"):
        assert phase in terminal, phase
    assert f"{pending}/{pending}" in terminal
    assert "done" in terminal


@pytest.mark.prefect
def test_ingest_fs_piped_prints_plain_lines_with_every_phase(
    prefect_api: str, tmp_path: Path
) -> None:

    done = subprocess.run(
        _ingest_fs(tmp_path, "piped"),
        capture_output=True,
        env=_cli_env(prefect_api, tmp_path),
        cwd=tmp_path,
        timeout=300,
        check=False,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    counts = report["counts"]
    assert "━" not in done.stderr
    assert "\x1b[" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("progress: ")]
    assert lines, done.stderr
    last = lines[-1]
    pending = counts["discovered"] - counts["unchanged"]
    discovered = counts["discovered"]
    assert last.startswith(f"progress: discover {discovered}/{discovered} ("), last
    for phase in ("fetch", "validate", "process", "store"):
        assert f"{phase} {pending}/{pending} (" in last, last
    outcomes = f"new {counts['new']}, skipped {counts['skipped']}, rejected {counts['rejected']}"
    assert outcomes in last
    assert "done in" in last
