"""The hostile suite's session: one results file for every case run, and the table of
docs/hostile-report.md printed at the end (and written there with HOSTILE_WRITE_REPORT=1,
which `python -m tests.hostile.report` sets).

A plug-in of tests/conftest.py, not a conftest of its own: with pytest-xdist the
controlling process never loads tests/hostile/, yet it is the one that prints the
summary; it makes the results file before its workers start, and they inherit its name.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from tests.hostile.cases import load_results, render_table, results_path, summarise
from tests.support.paths import REPO_ROOT

REPORT = REPO_ROOT / "docs" / "hostile-report.md"


_CREATED: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("HOSTILE_RESULTS"):
        handle, name = tempfile.mkstemp(prefix="hostile-results-", suffix=".jsonl")
        os.close(handle)
        os.environ["HOSTILE_RESULTS"] = name
        _CREATED.append(name)


def pytest_unconfigure(config: pytest.Config) -> None:
    for name in _CREATED:
        Path(name).unlink(missing_ok=True)
    if _CREATED:
        os.environ.pop("HOSTILE_RESULTS", None)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if hasattr(config, "workerinput"):  # an xdist worker: the controller reports it all
        return
    results = load_results()
    if not results:
        return
    totals = summarise(results)
    terminalreporter.section("hostile input and fault suite")
    terminalreporter.write_line(
        f"cases tried {totals.tried}, handled {totals.handled}, crashes {totals.crashes}, "
        f"lost {totals.lost}, duplicated {totals.duplicated}, secrets leaked {totals.leaked}, "
        f"out of bounds {totals.out_of_bounds}, known failures {totals.known_failures} "
        f"(results: {results_path()})"
    )
    if os.environ.get("HOSTILE_WRITE_REPORT") == "1":
        from tests.hostile.report import write_report

        out = Path(os.environ.get("HOSTILE_REPORT_OUT") or REPORT)
        write_report(results, out)
        terminalreporter.write_line(f"wrote {out}")
    else:
        terminalreporter.write_line(render_table(results).split("\n\n", 1)[0])
