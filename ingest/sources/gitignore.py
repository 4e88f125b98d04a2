"""Path filters for the filesystem source: include/exclude globs and nested .gitignore files,
both with git's wildmatch semantics (via pathspec)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass

from pathspec import GitIgnoreSpec

#: A .gitignore larger than this is not a real one; it is ignored rather than parsed.
MAX_GITIGNORE_BYTES = 1024 * 1024


def compile_patterns(patterns: Iterable[str]) -> GitIgnoreSpec:
    """Compile glob patterns written like .gitignore lines (raises ValueError when invalid)."""
    try:
        return GitIgnoreSpec.from_lines(list(patterns))
    except (TypeError, ValueError) as exc:
        raise ValueError(str(exc)) from exc


def matches(spec: GitIgnoreSpec, rel: str, *, is_dir: bool) -> bool:
    """Whether `rel` (posix, relative) matches; directories are tested with a trailing slash
    so that `build/` patterns apply to them."""
    return bool(spec.match_file(rel + "/" if is_dir else rel))


@dataclass(frozen=True)
class GitignoreRules:
    """The .gitignore files that apply to one folder, outermost first.

    Like git, the deepest file with a matching pattern decides, and the last matching
    pattern inside that file wins (so `!keep.log` can re-include).
    """

    layers: tuple[tuple[str, GitIgnoreSpec], ...] = ()

    def with_file(self, base: str, path: str) -> GitignoreRules:
        """Add the .gitignore at `path`, whose folder is `base` relative to the root.

        Only a regular file is read (never a symlink, which could point anywhere); an
        unreadable or oversized one is skipped, as git would not fail on it either.
        """
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            return self
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return self
            with open(fd, "rb", closefd=False) as handle:
                data = handle.read(MAX_GITIGNORE_BYTES + 1)
        except OSError:
            return self
        finally:
            os.close(fd)
        if len(data) > MAX_GITIGNORE_BYTES:
            return self
        try:
            spec = compile_patterns(data.decode("utf-8", "replace").splitlines())
        except ValueError:
            return self
        if all(pattern.include is None for pattern in spec.patterns):
            return self
        return GitignoreRules((*self.layers, (base, spec)))

    def ignored(self, rel: str, *, is_dir: bool) -> bool:
        for base, spec in reversed(self.layers):
            sub = rel[len(base) + 1 :] if base else rel
            decision = spec.check_file(sub + "/" if is_dir else sub).include
            if decision is not None:
                return bool(decision)
        return False
