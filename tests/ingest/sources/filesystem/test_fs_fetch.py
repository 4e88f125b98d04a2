"""Fetching from the filesystem source: bytes from inside the root only, and every OSError
mapped to a SourceAccessError that says whether a retry can help."""

from __future__ import annotations

import errno
import os
import shutil
import tempfile
from pathlib import Path

import pytest
from fs_helpers import items, run_as_nobody, source, write_tree

from ingest.errors import IngestError, ItemTooLargeError, SourceAccessError
from ingest.models import SourceItem
from ingest.sources.filesystem import access_error


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


def only(root: Path, rel: str, **options: object) -> SourceItem:
    return next(item for item in items(root, **options) if item.path == rel)


def test_fetch_returns_the_bytes(root: Path) -> None:
    write_tree(root, {"docs/a.md": b"# A\n\xc3\xa9\n"})
    fs = source(root)
    item = next(fs.discover(10))[0]
    assert fs.fetch(item) == b"# A\n\xc3\xa9\n"


def test_fetch_follows_a_symlink_inside_the_root(root: Path) -> None:
    write_tree(root, {"real/a.txt": "inside"})
    (root / "alias").symlink_to("real")
    (root / "b.txt").symlink_to("real/a.txt")
    fs = source(root)
    assert fs.fetch(only(root, "alias/a.txt")) == b"inside"
    assert fs.fetch(only(root, "b.txt")) == b"inside"


def test_fetch_of_a_vanished_file(root: Path) -> None:
    write_tree(root, {"gone.txt": "x"})
    fs = source(root)
    item = only(root, "gone.txt")
    (root / "gone.txt").unlink()

    with pytest.raises(SourceAccessError) as caught:
        fs.fetch(item)
    error = caught.value
    assert error.retryable is False
    assert error.stage == "fetch"
    assert error.source_id == fs.source_id
    assert error.uri == item.uri
    assert item.uri in str(error)
    assert "vanished since discovery" in str(error)
    assert isinstance(error.__cause__, FileNotFoundError)


def test_file_replaced_by_a_symlink_to_outside_is_refused(root: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("top secret")
    write_tree(root, {"notes.txt": "harmless"})
    fs = source(root)
    item = only(root, "notes.txt")
    (root / "notes.txt").unlink()
    (root / "notes.txt").symlink_to(secret)

    with pytest.raises(SourceAccessError, match="outside the source root") as caught:
        fs.fetch(item)
    assert caught.value.retryable is False
    assert str(secret) in str(caught.value)


def test_folder_replaced_by_a_symlink_to_outside_is_refused(root: Path, tmp_path: Path) -> None:
    write_tree(tmp_path / "outside", {"a.txt": "outside"})
    write_tree(root, {"dir/a.txt": "inside"})
    fs = source(root)
    item = only(root, "dir/a.txt")
    shutil.rmtree(root / "dir")
    (root / "dir").symlink_to(tmp_path / "outside")

    with pytest.raises(SourceAccessError, match="outside the source root"):
        fs.fetch(item)


@pytest.mark.parametrize("rel", ["../secret.txt", "/etc/passwd", ""])
def test_paths_that_leave_the_root_are_refused(root: Path, rel: str) -> None:
    fs = source(root)
    forged = SourceItem(source_id=fs.source_id, uri="file:///forged", path=rel)
    with pytest.raises(SourceAccessError) as caught:
        fs.fetch(forged)
    assert caught.value.retryable is False


def test_fetch_over_the_cap(root: Path) -> None:
    write_tree(root, {"grows.txt": "x" * 10})
    fs = source(root, max_file_size=50)
    item = only(root, "grows.txt", max_file_size=50)
    (root / "grows.txt").write_text("x" * 51)

    with pytest.raises(ItemTooLargeError, match="50 bytes") as caught:
        fs.fetch(item)
    assert caught.value.retryable is False
    assert caught.value.uri == item.uri


def test_fetch_at_the_cap_is_fine(root: Path) -> None:
    write_tree(root, {"exact.txt": "x" * 50})
    assert source(root, max_file_size=50).fetch(only(root, "exact.txt")) == b"x" * 50


@pytest.mark.timeout(10)
def test_file_replaced_by_a_fifo_is_refused_without_blocking(root: Path) -> None:
    write_tree(root, {"pipe.txt": "x"})
    fs = source(root)
    item = only(root, "pipe.txt")
    (root / "pipe.txt").unlink()
    os.mkfifo(root / "pipe.txt")

    with pytest.raises(SourceAccessError, match="not a regular file") as caught:
        fs.fetch(item)
    assert caught.value.retryable is False


def test_fetch_of_a_folder_is_refused(root: Path) -> None:
    (root / "dir").mkdir()
    fs = source(root)
    forged = SourceItem(source_id=fs.source_id, uri="file:///dir", path="dir")
    with pytest.raises(SourceAccessError, match="not a regular file"):
        fs.fetch(forged)


def test_permission_denied_is_not_retryable() -> None:
    root = Path(tempfile.mkdtemp(prefix="ingest-fs-"))
    try:
        root.chmod(0o755)
        write_tree(root, {"private.txt": "x"})
        (root / "private.txt").chmod(0o600 if os.geteuid() == 0 else 0o000)
        fs = source(root)
        item = only(root, "private.txt")

        with pytest.raises(SourceAccessError, match="permission denied") as caught:
            run_as_nobody(lambda: fs.fetch(item))
        assert caught.value.retryable is False
        assert caught.value.uri == item.uri
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize(
    ("exc", "reason", "retryable"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file"), "vanished since discovery", False),
        (NotADirectoryError(errno.ENOTDIR, "Not a directory"), "vanished since discovery", False),
        (PermissionError(errno.EACCES, "Permission denied"), "permission denied", False),
        (PermissionError(errno.EPERM, "Operation not permitted"), "permission denied", False),
        (OSError(errno.ELOOP, "Too many levels"), "replaced by a symlink", False),
        (OSError(errno.ENXIO, "No such device"), "not a regular file", False),
        (OSError(errno.ENAMETOOLONG, "File name too long"), "path too long", False),
        (OSError(errno.EIO, "Input/output error"), "Input/output error", True),
        (BlockingIOError(errno.EAGAIN, "Resource unavailable"), "Resource unavailable", True),
        (OSError(errno.ESTALE, "Stale file handle"), "Stale file handle", True),
    ],
)
def test_os_errors_map_to_source_access_errors(exc: OSError, reason: str, retryable: bool) -> None:
    error = access_error(exc, source_id="fs:/r", uri="file:///r/a.txt", path="a.txt")
    assert isinstance(error, SourceAccessError)
    assert isinstance(error, IngestError)
    assert error.retryable is retryable
    assert error.stage == "fetch"
    assert error.source_id == "fs:/r"
    assert reason in str(error)
    assert str(error).startswith("file:///r/a.txt: fetch: a.txt: ")
    assert error.details["errno"] == exc.errno
