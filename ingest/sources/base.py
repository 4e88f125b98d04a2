"""The source interface: list items in batches, then read one item's bytes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ..models import SourceItem


class Source(Protocol):
    """Where content comes from.

    `discover` streams items in batches of at most `batch_size`, in a stable
    order, without holding the whole listing in memory. An item that discovery
    already knows it cannot take (a symlink out of the root, a file over the
    size cap, a FIFO) is yielded with `problem` set rather than dropped.
    `fetch` returns the item's bytes or raises `SourceAccessError`
    (`ItemTooLargeError` over the cap); it never reads outside the source.
    """

    source_id: str

    def discover(self, batch_size: int) -> Iterator[list[SourceItem]]: ...

    def fetch(self, item: SourceItem) -> bytes: ...
