"""The context glue: which listeners the runs started in a block deliver to, and which
reporter a batch running in this context reports to."""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .snapshot import ProgressListener

if TYPE_CHECKING:
    from .reporter import ProgressReporter

_ATTACHED: contextvars.ContextVar[tuple[ProgressListener, ...]] = contextvars.ContextVar(
    "ingest_progress_listeners", default=()
)


@contextmanager
def progress_listeners(*listeners: ProgressListener) -> Iterator[None]:
    """Attach listeners to the runs started inside this block (in this context).

    A flow that builds its reporter with `attached_listeners()` delivers to them:
    this is how the CLI shows a bar and how a program gets a callback, without
    passing objects through flow parameters.
    """
    token = _ATTACHED.set((*_ATTACHED.get(), *listeners))
    try:
        yield
    finally:
        _ATTACHED.reset(token)


def attached_listeners() -> tuple[ProgressListener, ...]:
    return _ATTACHED.get()


ACTIVE: contextvars.ContextVar[ProgressReporter | None] = contextvars.ContextVar(
    "ingest_progress_reporter", default=None
)


def active_reporter() -> ProgressReporter | None:
    """The reporter of the run this code belongs to: the innermost one entered
    (`with reporter:`) in this context or the context it was copied from."""
    return ACTIVE.get()
