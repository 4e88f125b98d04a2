"""The filesystem source: streams the files under one root folder in a stable order and
reads them without leaving the root, reporting what it cannot take instead of dropping it."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict, Field

from ..content_types import guess_content_type
from ..errors import ConfigurationError, ItemGoneError, ItemTooLargeError, SourceAccessError
from ..models import SourceItem
from .gitignore import GitignoreRules, compile_patterns, matches

SYMLINK_OUTSIDE_ROOT = "symlink-outside-root"
SYMLINK_NOT_FOLLOWED = "symlink-not-followed"
BROKEN_SYMLINK = "broken-symlink"
SYMLINK_LOOP = "symlink-loop"
SPECIAL_FILE = "special-file"
TOO_LARGE = "too-large"
BAD_NAME = "bad-name"
UNREADABLE_DIR = "unreadable-dir"
UNREADABLE = "unreadable"

_OPEN_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


class FilesystemSourceConfig(BaseModel):
    """What to ingest from a local folder."""

    model_config = ConfigDict(extra="forbid")

    root: Path = Field(description="The folder to ingest; nothing outside it is read.")
    include: list[str] = Field(
        default_factory=list,
        description="Glob patterns (gitignore syntax) on the path relative to the root; "
        "only matching files are taken. Empty means every file.",
    )
    exclude: list[str] = Field(
        default_factory=list,
        description="Glob patterns (gitignore syntax) of files and folders to skip.",
    )
    gitignore: bool = Field(
        default=True,
        description="Honour the .gitignore files in the root and its subfolders, like git.",
    )
    hidden: bool = Field(
        default=False, description="Take files and folders whose name starts with a dot."
    )
    max_file_size: int = Field(
        default=10 * 1024 * 1024,
        description="Files larger than this many bytes are reported, not read.",
    )
    follow_symlinks: bool = Field(
        default=True, description="Follow symbolic links that stay inside the root."
    )
    allow_outside_root: bool = Field(
        default=False,
        description="Also follow symbolic links that lead outside the root.",
    )

    def check(self) -> None:
        """Raise ConfigurationError unless the settings can work (the root is a folder)."""
        try:
            mode = os.stat(self.root).st_mode
        except FileNotFoundError:
            raise ConfigurationError(
                f"root {self.root} does not exist", details={"root": str(self.root)}
            ) from None
        except OSError as exc:
            raise ConfigurationError(
                f"root {self.root} cannot be accessed: {exc.strerror or exc}",
                details={"root": str(self.root)},
            ) from exc
        if not stat.S_ISDIR(mode):
            raise ConfigurationError(
                f"root {self.root} is not a directory", details={"root": str(self.root)}
            )
        if self.max_file_size <= 0:
            raise ConfigurationError(
                f"max_file_size must be positive, got {self.max_file_size}",
                details={"max_file_size": self.max_file_size},
            )
        for name, patterns in (("include", self.include), ("exclude", self.exclude)):
            try:
                compile_patterns(patterns)
            except ValueError as exc:
                raise ConfigurationError(f"invalid {name} pattern: {exc}") from exc


@dataclass
class _Folder:
    """One folder being walked: where it is, how it is seen, and its remaining entries."""

    path: str
    rel: str
    key: tuple[int, int]
    rules: GitignoreRules
    entries: Iterator[os.DirEntry[str]]


def _list_dir(path: str) -> list[os.DirEntry[str]]:
    with os.scandir(path) as entries:
        return sorted(entries, key=lambda entry: entry.name)


def _fingerprint(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}"


def _valid_name(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(rel: str) -> str:
    """`rel` with undecodable bytes shown as \\xNN, so that it can be stored and reported."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")


def access_error(exc: OSError, *, source_id: str, uri: str, path: str | None) -> SourceAccessError:
    """The SourceAccessError for an OSError met while reading one item."""
    if isinstance(exc, FileNotFoundError | NotADirectoryError):
        return ItemGoneError(
            f"{path}: vanished since discovery" if path else "vanished since discovery",
            source_id=source_id,
            uri=uri,
            stage="fetch",
            retryable=False,
            details={"errno": exc.errno, "path": path},
        )
    elif isinstance(exc, PermissionError):
        reason, retryable = "permission denied", False
    elif exc.errno == errno.ELOOP:
        reason, retryable = "replaced by a symlink since discovery; not followed", False
    elif exc.errno in (errno.ENXIO, errno.ENODEV):
        reason, retryable = "not a regular file", False
    elif exc.errno == errno.ENAMETOOLONG:
        reason, retryable = "path too long", False
    else:
        reason, retryable = f"read failed: {exc.strerror or exc}", True
    return SourceAccessError(
        f"{path}: {reason}" if path else reason,
        source_id=source_id,
        uri=uri,
        stage="fetch",
        retryable=retryable,
        details={"errno": exc.errno, "path": path},
    )


class FilesystemSource:
    """A local folder as a Source (see `ingest.sources.base.Source`)."""

    def __init__(self, config: FilesystemSourceConfig) -> None:
        config.check()
        self.config = config
        self._root = str(config.root.resolve())
        self._prefix = self._root if self._root.endswith(os.sep) else self._root + os.sep
        self.source_id = "fs:" + self._root
        self._include = compile_patterns(config.include) if config.include else None
        self._exclude = compile_patterns(config.exclude) if config.exclude else None

    # -- discovery -------------------------------------------------------------------------

    def discover(self, batch_size: int) -> Iterator[list[SourceItem]]:
        if batch_size < 1:
            raise ConfigurationError(f"batch_size must be at least 1, got {batch_size}")
        return self._batches(batch_size)

    def _batches(self, batch_size: int) -> Iterator[list[SourceItem]]:
        batch: list[SourceItem] = []
        for item in self.iter_items():
            batch.append(item)
            if len(batch) == batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def iter_items(self) -> Iterator[SourceItem]:
        """Every item under the root, depth first, entries sorted by name at each level.

        Only the folders on the current path are held in memory, never the whole listing.
        """
        try:
            key = self._key(os.stat(self._root))
            entries = _list_dir(self._root)
        except OSError as exc:
            raise SourceAccessError(
                f"cannot list the source root: {exc.strerror or exc}",
                source_id=self.source_id,
                uri=Path(self._root).as_uri(),
                stage="discover",
                retryable=not isinstance(exc, FileNotFoundError | PermissionError),
            ) from exc
        rules = self._rules(GitignoreRules(), "", entries)
        stack = [_Folder(self._root, "", key, rules, iter(entries))]
        ancestors = {key}
        while stack:
            folder = stack[-1]
            entry = next(folder.entries, None)
            if entry is None:
                stack.pop()
                ancestors.discard(folder.key)
                continue
            found = self._visit(folder, entry, ancestors)
            if isinstance(found, _Folder):
                stack.append(found)
                ancestors.add(found.key)
            elif found is not None:
                yield found

    def _visit(
        self, folder: _Folder, entry: os.DirEntry[str], ancestors: set[tuple[int, int]]
    ) -> SourceItem | _Folder | None:
        name = entry.name
        if name == ".git" or (name.startswith(".") and not self.config.hidden):
            return None
        rel = f"{folder.rel}/{name}" if folder.rel else name
        try:
            lst = entry.stat(follow_symlinks=False)
        except FileNotFoundError:
            return None  # gone between listing and stat: the store will tombstone it
        except OSError as exc:
            return self._problem(rel, None, UNREADABLE, f"cannot stat: {exc.strerror or exc}")

        st: os.stat_result | None = lst
        link_problem: tuple[str, str] | None = None
        if stat.S_ISLNK(lst.st_mode):
            st, link_problem = self._follow(entry.path)
        is_dir = st is not None and stat.S_ISDIR(st.st_mode)
        if self._skipped(folder, rel, is_dir=is_dir):
            return None

        if not _valid_name(name):
            return self._problem(
                rel, lst, BAD_NAME, f"the name {_printable(name)!r} is not valid UTF-8"
            )
        if link_problem is not None:
            return self._problem(rel, lst, *link_problem)
        assert st is not None
        if is_dir:
            return self._enter(folder, entry.path, rel, lst, st, ancestors)
        if stat.S_ISREG(st.st_mode):
            if st.st_size > self.config.max_file_size:
                return self._problem(
                    rel,
                    lst,
                    TOO_LARGE,
                    f"{st.st_size} bytes, over the size cap of {self.config.max_file_size} bytes",
                    size=st.st_size,
                )
            return self._item(rel, st.st_size, _fingerprint(st))
        return self._problem(
            rel, lst, SPECIAL_FILE, f"not a regular file ({_kind(st.st_mode)}); never opened"
        )

    def _follow(self, path: str) -> tuple[os.stat_result | None, tuple[str, str] | None]:
        """Stat a symlink's target if it may be followed, or say why not.

        A target outside the root is only resolved as a path, never stat'ed or read.
        """
        if not self.config.follow_symlinks:
            return None, (SYMLINK_NOT_FOLLOWED, "symlink not followed (follow_symlinks is off)")
        target = os.path.realpath(path)
        if not self._inside(target) and not self.config.allow_outside_root:
            return None, (
                SYMLINK_OUTSIDE_ROOT,
                f"symlink to {target}, outside the source root {self._root}; not followed",
            )
        try:
            return os.stat(path), None
        except (FileNotFoundError, NotADirectoryError):
            return None, (BROKEN_SYMLINK, f"broken symlink: its target {target} does not exist")
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return None, (SYMLINK_LOOP, "symlink loop: the link never resolves to a file")
            return None, (UNREADABLE, f"cannot stat the symlink target: {exc.strerror or exc}")

    def _enter(
        self,
        folder: _Folder,
        path: str,
        rel: str,
        lst: os.stat_result,
        st: os.stat_result,
        ancestors: set[tuple[int, int]],
    ) -> SourceItem | _Folder | None:
        key = self._key(st)
        if key in ancestors:
            return self._problem(
                rel, lst, SYMLINK_LOOP, "directory loop: it leads back to a folder that contains it"
            )
        try:
            entries = _list_dir(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as exc:
            return self._problem(
                rel, lst, UNREADABLE_DIR, f"cannot list the folder: {exc.strerror or exc}"
            )
        return _Folder(path, rel, key, self._rules(folder.rules, rel, entries), iter(entries))

    def _rules(
        self, rules: GitignoreRules, rel: str, entries: list[os.DirEntry[str]]
    ) -> GitignoreRules:
        if not self.config.gitignore:
            return rules
        for entry in entries:
            if entry.name == ".gitignore":
                return rules.with_file(rel, entry.path)
        return rules

    def _skipped(self, folder: _Folder, rel: str, *, is_dir: bool) -> bool:
        if self._exclude is not None and matches(self._exclude, rel, is_dir=is_dir):
            return True
        if folder.rules.ignored(rel, is_dir=is_dir):
            return True
        if is_dir or self._include is None:
            return False
        return not matches(self._include, rel, is_dir=False)

    def _item(
        self,
        rel: str,
        size: int | None,
        fingerprint: str | None,
        problem: tuple[str, str] | None = None,
    ) -> SourceItem:
        shown = _printable(rel)
        return SourceItem(
            source_id=self.source_id,
            uri=Path(self._root, rel).as_uri(),
            path=shown,
            size=size,
            fingerprint=fingerprint,
            content_type=guess_content_type(shown),
            problem_code=problem[0] if problem else None,
            problem=problem[1] if problem else None,
        )

    def _problem(
        self,
        rel: str,
        lst: os.stat_result | None,
        code: str,
        reason: str,
        *,
        size: int | None = None,
    ) -> SourceItem:
        fingerprint = _fingerprint(lst) if lst is not None else None
        return self._item(rel, size, fingerprint, (code, reason))

    def _inside(self, path: str) -> bool:
        return path == self._root or path.startswith(self._prefix)

    @staticmethod
    def _key(st: os.stat_result) -> tuple[int, int]:
        return (st.st_dev, st.st_ino)

    # -- fetch -----------------------------------------------------------------------------

    def fetch(self, item: SourceItem) -> bytes:
        """The item's bytes, read from the same place discovery saw, never outside the root."""
        rel = item.path

        def refuse(reason: str, **details: object) -> SourceAccessError:
            return SourceAccessError(
                f"{rel}: {reason}",
                source_id=self.source_id,
                uri=item.uri,
                stage="fetch",
                retryable=False,
                details={"path": rel, **details},
            )

        if not rel or PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
            raise refuse("not a path relative to the source root")
        # The file may have become a symlink since discovery: resolve again, and open the
        # resolved path with O_NOFOLLOW so its last component cannot turn into a link after
        # the check; O_NONBLOCK keeps a FIFO swapped in from blocking the open.
        real = os.path.realpath(os.path.join(self._root, rel))
        if not self._inside(real) and not self.config.allow_outside_root:
            raise refuse(f"now resolves to {real}, outside the source root; refused", target=real)
        cap = self.config.max_file_size
        try:
            fd = os.open(real, _OPEN_FLAGS)
            try:
                mode = os.fstat(fd).st_mode
                if not stat.S_ISREG(mode):
                    raise refuse(f"not a regular file ({_kind(mode)}); refused")
                data = read_at_most(fd, cap + 1)
            finally:
                os.close(fd)
        except OSError as exc:
            raise access_error(exc, source_id=self.source_id, uri=item.uri, path=rel) from exc
        if len(data) > cap:
            raise ItemTooLargeError(
                f"{rel}: over the size cap of {cap} bytes",
                source_id=self.source_id,
                uri=item.uri,
                stage="fetch",
                retryable=False,
                details={"path": rel, "max_file_size": cap},
            )
        return data


def read_at_most(fd: int, limit: int) -> bytes:
    """Up to `limit` bytes from an open regular file; the descriptor stays open."""
    with open(fd, "rb", closefd=False) as handle:
        return handle.read(limit)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "an unknown kind of file"
