"""Where batch results persist: a folder, an fsspec URL or a saved Prefect filesystem
block, resolved into a Prefect storage block; and how to show such a location safely.

Every machine that may run or retry a flow run must reach the same storage: then a
retry anywhere finds the results of the batches that completed.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit
from urllib.request import url2pathname

from ingest.errors import ConfigurationError
from ingest.redact import has_secret, redact_url

from ._prefect_compat import saved_block_id

if TYPE_CHECKING:
    from prefect.filesystems import WritableFileSystem

BLOCK_PREFIX = "block:"
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def describe(location: str) -> str:
    """The location for logs, messages and reports: no user info, secret-looking query
    values masked."""
    return location if location.startswith(BLOCK_PREFIX) else redact_url(location)


def has_credentials(location: str) -> bool:
    """True when the URL carries a password or a secret-looking query value."""
    return bool(_URL.match(location)) and has_secret(location)


def resolve_storage(location: str) -> WritableFileSystem | Path:
    """What a task's `result_storage` takes for a location: a folder's `Path`, or a
    filesystem block saved on the Prefect server (Prefect needs the block's id to read
    a result back in another process). ConfigurationError when it cannot be used.

    `block:TYPE/NAME` loads a saved block (`prefect block ls` shows the slugs, e.g.
    `remote-file-system/shared-results`); `file:///path` and anything without a scheme
    is a folder (a mounted share, for several machines); any other `scheme://...` is an
    fsspec URL, kept as a `RemoteFileSystem` block named after the URL.
    """
    storage = check_storage(location)
    if isinstance(storage, Path) or saved_block_id(storage) is not None:
        return storage
    name = "ingest-results-" + hashlib.sha256(location.strip().encode()).hexdigest()[:16]
    storage.save(name, overwrite=True)
    return storage


def check_storage(location: str) -> WritableFileSystem | Path:
    """The storage a location names, without saving anything; ConfigurationError for
    an unknown or unusable block, a URL with credentials or without an fsspec
    implementation."""
    from prefect.filesystems import RemoteFileSystem, WritableFileSystem

    location = location.strip()
    if not location:
        raise ConfigurationError("result storage: empty location")
    if has_credentials(location):
        raise ConfigurationError(
            f"result storage {describe(location)}: credentials in the URL would be stored "
            "in plain text; save them in a Prefect block (block:TYPE/NAME) or give them to "
            "the fsspec backend through its own environment (e.g. AWS_ACCESS_KEY_ID)"
        )
    if location.startswith(BLOCK_PREFIX):
        slug = location.removeprefix(BLOCK_PREFIX).strip()
        if slug.count("/") != 1:
            raise ConfigurationError(
                f"result storage {location}: expected block:TYPE/NAME, "
                "e.g. block:remote-file-system/shared-results"
            )
        try:
            block = _load(slug)
        except (ValueError, KeyError) as exc:
            raise ConfigurationError(f"result storage {location}: no such block") from exc
        if not isinstance(block, WritableFileSystem):
            raise ConfigurationError(
                f"result storage {location}: a {type(block).__name__} block cannot store "
                "results (use a filesystem block such as remote-file-system)"
            )
        return block
    if location.lower().startswith("file://"):
        # Prefect's RemoteFileSystem wants a host after the scheme; a file URL is a folder.
        parts = urlsplit(location)
        if parts.netloc not in ("", "localhost"):
            raise ConfigurationError(
                f"result storage {describe(location)}: a file URL names a local folder; "
                "mount the shared folder and use file:///path"
            )
        return Path(url2pathname(parts.path))
    if _URL.match(location):
        import fsspec  # type: ignore[import-untyped]

        scheme = urlsplit(location).scheme
        try:
            fsspec.get_filesystem_class(scheme)
        except (ImportError, ValueError) as exc:
            raise ConfigurationError(
                f"result storage {describe(location)}: no fsspec filesystem for {scheme!r} ({exc})"
            ) from exc
        return RemoteFileSystem(basepath=location)
    return Path(location).expanduser().resolve()


def _load(slug: str) -> WritableFileSystem:
    from prefect.results import resolve_result_storage

    # Synchronously even in an async flow, where Prefect would return a coroutine.
    return cast("WritableFileSystem", resolve_result_storage(slug, _sync=True))  # type: ignore[call-arg]
