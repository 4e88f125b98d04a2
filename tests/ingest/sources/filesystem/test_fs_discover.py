"""Discovery of the filesystem source: filters, order, batches, streaming and the items it
reports instead of taking."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import GeneratorType
from typing import Any

import pytest
from fs_helpers import items, paths, problems, run_as_nobody, source, write_tree

from ingest.errors import ConfigurationError, SourceAccessError
from ingest.sources import filesystem
from ingest.sources.base import Source
from ingest.sources.filesystem import FilesystemSource, FilesystemSourceConfig


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root"
    folder.mkdir()
    return folder


def test_is_a_source_with_a_stable_id(root: Path) -> None:
    fs: Source = source(root)
    assert fs.source_id == "fs:" + str(root.resolve())


def test_items_carry_uri_path_size_fingerprint_and_type(root: Path) -> None:
    write_tree(root, {"docs/guide.md": "# Guide\n", "main.py": "x = 1\n", "Makefile": "all:\n"})
    found = {item.path: item for item in items(root)}

    guide = found["docs/guide.md"]
    st = (root / "docs/guide.md").stat()
    assert guide.uri == (root.resolve() / "docs" / "guide.md").as_uri()
    assert guide.size == 8
    assert guide.fingerprint == f"{st.st_size}:{st.st_mtime_ns}"
    assert guide.content_type == "text/markdown"
    assert guide.problem is None
    assert found["main.py"].content_type == "text/x-python"
    assert found["Makefile"].content_type == "text/plain"


def test_order_is_sorted_depth_first_and_stable(root: Path) -> None:
    write_tree(root, {name: "x" for name in ["b.txt", "a/z.txt", "a/b/c.txt", "c.txt", "a.txt"]})
    expected = ["a/b/c.txt", "a/z.txt", "a.txt", "b.txt", "c.txt"]
    assert paths(root) == expected
    assert paths(root) == expected


def test_batches_have_the_requested_size(root: Path) -> None:
    write_tree(root, {f"f{i:02}.txt": "x" for i in range(23)})
    batches = list(source(root).discover(5))
    assert [len(batch) for batch in batches] == [5, 5, 5, 5, 3]
    assert [item.path for batch in batches for item in batch] == paths(root)


def test_batch_size_must_be_positive(root: Path) -> None:
    with pytest.raises(ConfigurationError, match="batch_size"):
        source(root).discover(0)


def test_discovery_streams_instead_of_listing_everything_first(root: Path) -> None:
    for folder in range(50):
        write_tree(root, {f"d{folder:02}/f{i:03}.txt": "x" for i in range(100)})
    batches = source(root).discover(10)
    assert isinstance(batches, Iterator)

    first = next(batches)
    assert [item.path for item in first][:2] == ["d00/f000.txt", "d00/f001.txt"]
    # Folders not reached yet have not been listed: removing one now leaves no trace.
    shutil.rmtree(root / "d49")
    rest = [item.path or "" for batch in batches for item in batch]
    assert len(first) + len(rest) == 4900
    assert not any(path.startswith("d49/") for path in rest)


def test_walk_is_a_generator(root: Path) -> None:
    assert isinstance(source(root).iter_items(), GeneratorType)


def test_include_and_exclude_globs(root: Path) -> None:
    write_tree(
        root,
        {
            "README.md": "x",
            "docs/a.md": "x",
            "docs/drafts/b.md": "x",
            "src/app.py": "x",
            "src/app_test.py": "x",
            "notes.txt": "x",
        },
    )
    assert paths(root, include=["*.md"]) == ["README.md", "docs/a.md", "docs/drafts/b.md"]
    assert paths(root, include=["docs/**"], exclude=["drafts/"]) == ["docs/a.md"]
    assert paths(root, include=["/*.md", "src/"]) == ["README.md", "src/app.py", "src/app_test.py"]
    assert paths(root, exclude=["*_test.py", "docs"]) == ["README.md", "notes.txt", "src/app.py"]


def test_nested_gitignore_with_negation(root: Path) -> None:
    write_tree(
        root,
        {
            ".gitignore": "*.log\nbuild/\n/top-only.txt\n",
            "app.log": "x",
            "top-only.txt": "x",
            "build/out.bin": "x",
            "keep.md": "x",
            "sub/top-only.txt": "x",
            "sub/.gitignore": "!important.log\n*.tmp\n",
            "sub/important.log": "x",
            "sub/other.log": "x",
            "sub/scratch.tmp": "x",
            "sub/deeper/build/x.txt": "x",
            "other/scratch.tmp": "x",
            ".git/config": "x",
            ".git/HEAD": "x",
        },
    )
    assert paths(root) == [
        "keep.md",
        "other/scratch.tmp",
        "sub/important.log",
        "sub/top-only.txt",
    ]
    assert paths(root, gitignore=False) == [
        "app.log",
        "build/out.bin",
        "keep.md",
        "other/scratch.tmp",
        "sub/deeper/build/x.txt",
        "sub/important.log",
        "sub/other.log",
        "sub/scratch.tmp",
        "sub/top-only.txt",
        "top-only.txt",
    ]


def test_git_folder_is_skipped_even_with_hidden_files(root: Path) -> None:
    write_tree(root, {".git/HEAD": "x", ".env": "x", "a.txt": "x"})
    assert paths(root, hidden=True, gitignore=False) == [".env", "a.txt"]


def test_hidden_files_and_folders(root: Path) -> None:
    write_tree(root, {".env.example": "x", ".config/settings.json": "{}", "visible.txt": "x"})
    assert paths(root) == ["visible.txt"]
    assert paths(root, hidden=True) == [".config/settings.json", ".env.example", "visible.txt"]


def test_too_large_file_is_a_problem_item(root: Path) -> None:
    write_tree(root, {"big.txt": "x" * 101, "small.txt": "x" * 100})
    found = {item.path: item for item in items(root, max_file_size=100)}
    assert found["small.txt"].problem is None
    big = found["big.txt"]
    assert big.problem_code == "too-large"
    assert "101" in (big.problem or "")
    assert "100 bytes" in (big.problem or "")
    assert big.size == 101


def test_symlinks_to_outside_the_root_are_reported_not_followed(root: Path) -> None:
    write_tree(root, {"a.txt": "x"})
    (root / "etc").symlink_to("/etc")
    (root / "passwd").symlink_to("/etc/passwd")
    found = items(root)

    by_path = {item.path: item for item in found}
    assert by_path["etc"].problem_code == "symlink-outside-root"
    assert by_path["passwd"].problem_code == "symlink-outside-root"
    assert "/etc/passwd" in (by_path["passwd"].problem or "")
    assert by_path["etc"].size is None
    assert [item.path for item in found] == ["a.txt", "etc", "passwd"]
    prefix = root.resolve().as_uri() + "/"
    assert all(item.uri.startswith(prefix) for item in found)


def test_outside_targets_are_never_stat_ed(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (root / "etc").symlink_to("/etc")
    real_stat = os.stat
    touched: list[str] = []

    def spy(path: str, *args: Any, **kwargs: Any) -> os.stat_result:
        touched.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", spy)
    assert problems(root) == {"etc": "symlink-outside-root"}
    assert not any(path.startswith("/etc") or path.endswith("/etc") for path in touched)


def test_symlinks_outside_are_followed_when_allowed(root: Path, tmp_path: Path) -> None:
    write_tree(tmp_path / "elsewhere", {"shared.md": "x"})
    (root / "shared").symlink_to(tmp_path / "elsewhere")
    found = items(root, allow_outside_root=True)
    assert [(item.path, item.problem) for item in found] == [("shared/shared.md", None)]
    assert found[0].uri == (root.resolve() / "shared" / "shared.md").as_uri()


def test_symlinks_inside_the_root_are_followed(root: Path) -> None:
    write_tree(root, {"real/doc.md": "# doc\n", "a.txt": "abc"})
    (root / "alias").symlink_to("real")
    (root / "b.txt").symlink_to(root / "a.txt")
    found = {item.path: item for item in items(root)}

    assert sorted(found, key=str) == ["a.txt", "alias/doc.md", "b.txt", "real/doc.md"]
    assert found["alias/doc.md"].uri == (root.resolve() / "alias" / "doc.md").as_uri()
    assert found["b.txt"].size == 3
    assert found["b.txt"].fingerprint == found["a.txt"].fingerprint
    assert all(item.problem is None for item in found.values())


def test_symlinks_are_reported_when_not_followed(root: Path) -> None:
    write_tree(root, {"a.txt": "x"})
    (root / "b.txt").symlink_to("a.txt")
    assert problems(root, follow_symlinks=False) == {"b.txt": "symlink-not-followed"}


@pytest.mark.timeout(10)
def test_directory_symlink_loops_terminate(root: Path) -> None:
    write_tree(root, {"a/file.txt": "x"})
    (root / "a" / "again").symlink_to("..")
    (root / "a" / "self").symlink_to(".")
    (root / "ping").symlink_to("pong")
    (root / "pong").symlink_to("ping")
    assert paths(root) == ["a/file.txt"]
    assert problems(root) == {
        "a/again": "symlink-loop",
        "a/self": "symlink-loop",
        "ping": "symlink-loop",
        "pong": "symlink-loop",
    }


def test_broken_symlink(root: Path) -> None:
    (root / "dangling.md").symlink_to("missing.md")
    found = items(root)
    assert [(item.path, item.problem_code) for item in found] == [("dangling.md", "broken-symlink")]
    assert found[0].fingerprint is not None


@pytest.mark.timeout(10)
def test_fifo_is_a_special_file_and_never_opened(root: Path) -> None:
    os.mkfifo(root / "pipe.txt")
    write_tree(root, {"z.txt": "x"})
    found = items(root)
    assert [(item.path, item.problem_code) for item in found] == [
        ("pipe.txt", "special-file"),
        ("z.txt", None),
    ]
    assert "FIFO" in (found[0].problem or "")


def test_invalid_utf8_name_is_reported_without_crashing(root: Path) -> None:
    name = os.fsencode(root) + b"/caf\xe9.txt"
    fd = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, b"hello")
    os.close(fd)
    found = items(root)
    assert len(found) == 1
    item = found[0]
    assert item.problem_code == "bad-name"
    assert item.path == "caf\\xe9.txt"
    assert item.uri == root.resolve().as_uri() + "/caf%E9.txt"
    item.model_dump_json()  # storable and reportable


def test_unreadable_folder_is_reported_and_the_walk_goes_on() -> None:
    # A world-readable temporary root, so that the unprivileged child can reach it.
    root = Path(tempfile.mkdtemp(prefix="ingest-fs-"))
    try:
        root.chmod(0o755)
        write_tree(root, {"a.txt": "x", "locked/secret.txt": "x", "z/b.txt": "x"})
        for folder in (root / "z", root):
            folder.chmod(0o755)
        (root / "locked").chmod(0o700 if os.geteuid() == 0 else 0o000)
        for path in (root / "a.txt", root / "z" / "b.txt"):
            path.chmod(0o644)

        found = run_as_nobody(lambda: items(root))
        assert [(item.path, item.problem_code) for item in found] == [
            ("a.txt", None),
            ("locked", "unreadable-dir"),
            ("z/b.txt", None),
        ]
        assert "ermission denied" in (found[1].problem or "")
    finally:
        (root / "locked").chmod(0o755)
        shutil.rmtree(root)


def test_unlistable_root_is_a_source_error(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fs = source(root)

    def deny(path: str) -> list[os.DirEntry[str]]:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(filesystem, "_list_dir", deny)
    with pytest.raises(SourceAccessError, match="cannot list the source root") as caught:
        next(fs.discover(10))
    assert caught.value.retryable is False
    assert caught.value.stage == "discover"


def test_config_rejects_a_missing_root(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(ConfigurationError, match="nope.*does not exist"):
        FilesystemSource(FilesystemSourceConfig(root=missing))


def test_config_rejects_a_file_as_root(tmp_path: Path) -> None:
    file = tmp_path / "file.txt"
    file.write_text("x")
    with pytest.raises(ConfigurationError, match="file.txt is not a directory"):
        FilesystemSourceConfig(root=file).check()


def test_config_rejects_a_non_positive_size_cap(root: Path) -> None:
    with pytest.raises(ConfigurationError, match="max_file_size"):
        FilesystemSourceConfig(root=root, max_file_size=0).check()


def test_config_fields_are_described() -> None:
    fields = FilesystemSourceConfig.model_fields
    assert all(field.description for field in fields.values())
    assert FilesystemSourceConfig(root=Path(".")).max_file_size == 10 * 1024 * 1024


def test_sample_corpus_is_listed_as_its_readme_says() -> None:
    corpus = Path(__file__).resolve().parents[4] / "samples" / "corpus"
    found = items(corpus)
    listed = {item.path for item in found}
    assert len(found) == 54
    assert all(item.problem is None for item in found)
    assert "build/site-bundle.txt" not in listed
    assert ".env.example" not in listed
    assert {"bad/notes.md", "bad/empty.txt", "bad/latin1.txt", "bad/invalid-utf8.txt"} <= listed
    assert ".env.example" in {item.path for item in items(corpus, hidden=True)}
