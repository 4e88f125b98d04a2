"""The delete guard's arithmetic and message, and run notes in the summary artifact."""

from __future__ import annotations

import pickle

import pytest

from ingest.errors import TooManyDeletionsError
from ingest.models import RunReport


@pytest.mark.parametrize(
    ("unseen", "live", "limit", "refused"),
    [
        (0, 0, 0.5, False),  # a first run: nothing stored
        (5, 10, 0.5, False),  # exactly the share is allowed
        (6, 10, 0.5, True),
        (10, 10, 1.0, False),
        (1, 10, 0.0, True),
        (0, 10, 0.0, False),
    ],
)
def test_delete_share_exceeded(unseen: int, live: int, limit: float, refused: bool) -> None:
    from flows.run import delete_share_exceeded

    assert delete_share_exceeded(unseen, live, limit) is refused


def test_the_guard_error_names_share_counts_and_override_and_survives_pickling() -> None:
    report = RunReport(run_id="r", flow="ingest-filesystem", state="Failed")
    error = TooManyDeletionsError(report, 40, 50, 0.5)
    for words in ("40 of 50", "80.0%", "maximum delete share of 50%", "--max-delete-share 1"):
        assert words in error.reason
    assert error.retryable
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object
    assert copy.reason == error.reason
    assert copy.details["live"] == 50


def test_notes_appear_in_the_summary_markdown() -> None:
    from flows.adapters.summary import render_summary_markdown

    report = RunReport(
        run_id="r", flow="ingest-web", state="Completed", notes=["nothing was marked deleted"]
    )
    markdown = render_summary_markdown(report)
    assert "## Notes\n\n- nothing was marked deleted\n" in markdown
    assert "## Notes" not in render_summary_markdown(report.model_copy(update={"notes": []}))
