"""What the run summary artifacts and events show: the run report as Markdown, and
rows of failed and rejected items, with uris masked by `ingest.redact.redact_url`
(credentials and secret-looking query values) and long messages cut."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ingest.models import Failure, Rejection, RunReport
from ingest.progress import format_duration
from ingest.redact import redact_url

_MESSAGE_LIMIT = 500


def _short(message: str) -> str:
    return message if len(message) <= _MESSAGE_LIMIT else message[: _MESSAGE_LIMIT - 1] + "…"


def retry_hints(report: RunReport) -> list[str]:
    return [
        f"`ingest retry {report.run_id}` re-runs only the batches that did not complete.",
        "In the Prefect UI, **Retry** on this flow run (runs started from a deployment).",
        "Or run the same command again: the store skips every item that is already current.",
    ]


def render_summary_markdown(
    report: RunReport,
    *,
    slowest: Sequence[tuple[str, float]] = (),
    run_url: str | None = None,
    max_listed: int = 50,
) -> str:
    """The run report as Markdown: counts, throughput, slowest items, problems, retry."""
    counts = report.counts
    lines = [f"# {report.flow}: {report.state}", ""]
    run = f"[{report.run_id}]({run_url})" if run_url else f"`{report.run_id}`"
    lines += [
        f"Run {run} took {report.duration_s:.2f} s"
        + (f" ({format_duration(report.duration_s)})." if report.duration_s >= 60 else "."),
        "",
    ]
    lines += ["## Outcomes", "", "| outcome | items |", "|---|---:|"]
    lines += [f"| {name} | {value} |" for name, value in counts.model_dump().items()]
    lines.append("")
    if report.notes:
        lines += ["## Notes", "", *(f"- {_cell(note)}" for note in report.notes), ""]
    lines += ["## Throughput", ""]
    if report.duration_s > 0:
        per_second = counts.discovered / report.duration_s
        lines += [f"{counts.discovered} items discovered, {per_second:.1f} items/s overall.", ""]
    if report.phases:
        lines += ["| phase | items | seconds | items/s |", "|---|---:|---:|---:|"]
        for phase, timing in report.phases.items():
            rate = f"{timing.items / timing.seconds:.1f}" if timing.seconds > 0 else "-"
            lines.append(f"| {phase} | {timing.items} | {timing.seconds:.2f} | {rate} |")
        lines += ["", "Phase seconds add up the time of every batch, including parallel ones.", ""]
    if slowest:
        lines += ["## Slowest items", "", "| item | seconds |", "|---|---:|"]
        lines += [f"| {_cell(redact_url(uri))} | {seconds:.2f} |" for uri, seconds in slowest]
        lines.append("")
    if report.failures:
        lines += [f"## Failures ({len(report.failures)})", ""]
        lines += [
            f"- `{_cell(redact_url(f.uri))}` at {f.stage} ({f.error_type}"
            f"{', retryable' if f.retryable else ''}): {_cell(_short(f.message))}"
            for f in report.failures[:max_listed]
        ]
        lines += _more(len(report.failures), max_listed)
    if report.skipped:
        # Not problems: counted by reason; the items are in the report and the store.
        lines += [f"## Skipped ({len(report.skipped)})", "", "| reason | items |", "|---|---:|"]
        lines += [f"| {_cell(code)} | {n} |" for code, n in report.skipped_by_code().items()]
        lines.append("")
    if report.rejected:
        lines += [f"## Rejected ({len(report.rejected)})", ""]
        lines += [
            f"- `{_cell(redact_url(r.uri))}`: {_cell(_short('; '.join(r.errors)))}"
            for r in report.rejected[:max_listed]
        ]
        lines += _more(len(report.rejected), max_listed)
    if counts.failed:
        lines += ["## Retry", ""]
        lines += [f"- {hint}" for hint in retry_hints(report)]
        lines.append("")
    return "\n".join(lines)


def failure_rows(report: RunReport, limit: int = 1000) -> list[dict[str, Any]]:
    return [failure_row(failure) for failure in report.failures[:limit]]


def rejection_rows(report: RunReport, limit: int = 1000) -> list[dict[str, Any]]:
    return [_rejection_row(rejection) for rejection in report.rejected[:limit]]


def failure_row(failure: Failure) -> dict[str, Any]:
    return {
        "uri": redact_url(failure.uri),
        "stage": failure.stage,
        "error_type": failure.error_type,
        "message": _short(failure.message),
        "retryable": failure.retryable,
    }


def _rejection_row(rejection: Rejection) -> dict[str, Any]:
    return {"uri": redact_url(rejection.uri), "errors": _short("; ".join(rejection.errors))}


def _more(count: int, listed: int) -> list[str]:
    hidden = count - listed
    return [f"- ... and {hidden} more (see the table artifact)", ""] if hidden > 0 else [""]


def _cell(text: str) -> str:
    """Safe inside a Markdown table cell or list item."""
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'").replace("<", "&lt;")
