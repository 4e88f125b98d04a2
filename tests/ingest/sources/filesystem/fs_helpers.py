"""Helpers shared by the filesystem source tests: build trees, run the walk, act as nobody."""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingest.models import SourceItem
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig

NOBODY = 65534


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def source(root: Path, **options: Any) -> FilesystemSource:
    return FilesystemSource(FilesystemSourceConfig(root=root, **options))


def items(root: Path, **options: Any) -> list[SourceItem]:
    return [item for batch in source(root, **options).discover(100) for item in batch]


def paths(root: Path, **options: Any) -> list[str]:
    return [item.path or "" for item in items(root, **options) if item.problem is None]


def problems(root: Path, **options: Any) -> dict[str, str]:
    """path -> problem_code of every item discovery could not take."""
    return {
        item.path or "": item.problem_code or ""
        for item in items(root, **options)
        if item.problem is not None
    }


def run_as_nobody(fn: Callable[[], Any]) -> Any:
    """Run `fn` in a forked child with uid/gid 65534 and return (or raise) its result.

    Tests run as root, where file modes do not deny anything; a child that dropped
    its privileges sees real permission errors. As a normal user, `fn` runs in-process.
    """
    if os.geteuid() != 0:
        return fn()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        status = 0
        try:
            os.close(read_end)
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            try:
                payload = pickle.dumps(("ok", fn()))
            except Exception as exc:
                payload = pickle.dumps(("raised", exc))
            with os.fdopen(write_end, "wb") as out:
                out.write(payload)
        except BaseException:
            status = 1
        finally:
            os._exit(status)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as inp:
        payload = inp.read()
    _, status = os.waitpid(pid, 0)
    assert status == 0, "the unprivileged child failed"
    assert payload, "the unprivileged child sent nothing"
    kind, value = pickle.loads(payload)
    if kind == "raised":
        raise value
    return value
