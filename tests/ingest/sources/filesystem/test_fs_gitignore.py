"""The .gitignore rules of the filesystem source behave like git's, and odd .gitignore
files (folders, FIFOs, symlinks) are skipped rather than read."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fs_helpers import paths, write_tree

from ingest.sources.gitignore import GitignoreRules, compile_patterns, matches


def rules_for(tmp_path: Path, files: dict[str, str]) -> GitignoreRules:
    rules = GitignoreRules()
    for base, text in files.items():
        path = tmp_path / (base or "top") / ".gitignore"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        rules = rules.with_file(base, str(path))
    return rules


def test_deeper_file_overrides_and_anchors_are_relative(tmp_path: Path) -> None:
    rules = rules_for(tmp_path, {"": "*.log\n/only-top\n", "sub": "!keep.log\n/local\n"})
    assert rules.ignored("a.log", is_dir=False)
    assert rules.ignored("sub/x.log", is_dir=False)
    assert not rules.ignored("sub/keep.log", is_dir=False)
    assert rules.ignored("only-top", is_dir=False)
    assert not rules.ignored("sub/only-top", is_dir=False)
    assert rules.ignored("sub/local", is_dir=True)
    assert not rules.ignored("local", is_dir=True)


def test_directory_patterns_only_match_directories(tmp_path: Path) -> None:
    rules = rules_for(tmp_path, {"": "build/\n"})
    assert rules.ignored("build", is_dir=True)
    assert rules.ignored("pkg/build", is_dir=True)
    assert not rules.ignored("build", is_dir=False)


def test_comments_and_blank_lines_do_nothing(tmp_path: Path) -> None:
    rules = rules_for(tmp_path, {"": "# *.md\n\n"})
    assert rules.layers == ()
    assert not rules.ignored("a.md", is_dir=False)


def test_compile_patterns_and_matches() -> None:
    spec = compile_patterns(["docs/**/*.md", "!docs/private/**"])
    assert matches(spec, "docs/a/b.md", is_dir=False)
    assert not matches(spec, "docs/private/x.md", is_dir=False)
    assert not matches(spec, "README.md", is_dir=False)


@pytest.mark.timeout(10)
def test_odd_gitignore_files_are_not_read(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_tree(root, {"a/x.log": "x", "b/x.log": "x", "c/x.log": "x", "d/x.log": "x"})
    (root / "a" / ".gitignore").mkdir()
    os.mkfifo(root / "b" / ".gitignore")
    write_tree(tmp_path, {"outside.gitignore": "*.log\n"})
    (root / "c" / ".gitignore").symlink_to(tmp_path / "outside.gitignore")
    (root / "d" / ".gitignore").write_text("*.log\n")
    assert paths(root) == ["a/x.log", "b/x.log", "c/x.log"]
