"""A run over a folder full of bad input finishes, keeps the good, explains the bad."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.flows.test_flow_filesystem import run_flow

pytestmark = pytest.mark.prefect


def _bad_folder(root: Path) -> Path:
    root.mkdir()
    (root / "good.md").write_text("# Good\n\nA fine page.\n")
    (root / "good.py").write_text("def ok():\n    return 1\n")
    (root / "notes.txt").write_text("Plain notes.\n\nSecond paragraph.\n")
    unreadable = root / "secret.txt"
    unreadable.write_text("not for us\n")
    unreadable.chmod(0)
    (root / "image.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    (root / "bad-utf8.txt").write_bytes(b"ok \xff\xfe\x00\x81 \x00\x00 broken" * 20)
    (root / "empty.txt").write_bytes(b"")
    with (root / "huge.txt").open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)
    (root / "etc").symlink_to("/etc")
    (root / "passwd").symlink_to("/etc/passwd")
    return root


def test_bad_items_are_reported_and_the_rest_is_stored(
    prefect_api: str, isolated_results: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _bad_folder(tmp_path / "bad")
    opened_outside: list[str] = []
    real_open = os.open

    def guarded_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        text = os.fsdecode(path)
        if text.startswith("/etc"):
            opened_outside.append(text)
        if text == str(folder / "secret.txt") and os.geteuid() == 0:
            # root reads through mode 000; give root the error a user would get
            raise PermissionError(13, "Permission denied", text)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    state, report = run_flow(folder, tmp_path / "store.db")

    assert opened_outside == [], "nothing outside the root may be read"
    counts = report["counts"]
    assert counts["discovered"] == 10
    assert counts["new"] == 3
    assert counts["failed"] == 1
    assert counts["rejected"] == 2
    assert counts["skipped"] == 4
    assert state.is_failed(), "a failed item fails the run (and makes it resumable)"

    [failure] = report["failures"]
    assert failure["uri"] == (folder / "secret.txt").as_uri()
    assert "permission denied" in failure["message"]
    assert failure["retryable"] is False

    reasons = {r["uri"].rsplit("/", 1)[-1]: " ".join(r["errors"]) for r in report["rejected"]}
    assert set(reasons) == {"image.md", "bad-utf8.txt"}
    assert reasons["image.md"].startswith("binary")
    assert reasons["bad-utf8.txt"].startswith(("binary", "undecodable"))
    skipped = {s["uri"].rsplit("/", 1)[-1]: s for s in report["skipped"]}
    assert {name: s["code"] for name, s in skipped.items()} == {
        "empty.txt": "empty",
        "huge.txt": "too-large",
        "etc": "symlink-outside-root",
        "passwd": "symlink-outside-root",
    }
    assert "52428800 bytes" in skipped["huge.txt"]["reason"]
    assert "/etc" in skipped["etc"]["reason"]

    from ingest.store import open_store

    with open_store(str(tmp_path / "store.db")) as store:
        stored = {r.uri.rsplit("/", 1)[-1] for r in store.iter_export()}
        assert stored == {"good.md", "good.py", "notes.txt"}
        assert store.check() == []
