"""Registries keyed by content type, open to third-party packages via entry points."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoints, entry_points
from typing import Generic, Protocol, TypeVar

from .errors import ConfigurationError


class Registered(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def content_types(self) -> tuple[str, ...]: ...


T = TypeVar("T", bound=Registered)


class Registry(Generic[T]):
    """Components found by content type.

    Lookup order for `text/x-python`: the exact type, then `text/*`, then `*/*`.
    Entry points in `group` are loaded once, on first lookup; each names a
    component class (or a zero-argument factory) to register.
    """

    def __init__(self, group: str) -> None:
        self.group = group
        self._by_type: dict[str, list[T]] = {}
        self._by_name: dict[str, T] = {}
        self._entry_points_loaded = False

    def register(self, component: T) -> T:
        self._by_name[component.name] = component
        for content_type in component.content_types:
            self._by_type.setdefault(content_type, []).append(component)
        return component

    def add(self, factory: Callable[[], T]) -> Callable[[], T]:
        """Class decorator: register one instance of the decorated class."""
        self.register(factory())
        return factory

    def for_type(self, content_type: str) -> list[T]:
        self._load_entry_points()
        base = content_type.split(";", 1)[0].strip().lower()
        family = base.split("/", 1)[0] + "/*"
        for key in (base, family, "*/*"):
            if key in self._by_type:
                return list(self._by_type[key])
        return []

    def latest_for_type(self, content_type: str) -> T | None:
        """The component registered last for the type, so a plug-in (loaded after the
        built-ins) overrides a built-in of the same type."""
        found = self.for_type(content_type)
        return found[-1] if found else None

    def get(self, name: str) -> T:
        self._load_entry_points()
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(sorted(self._by_name)) or "none"
            raise ConfigurationError(
                f"unknown {self.group} entry {name!r} (known: {known})"
            ) from None

    def names(self) -> list[str]:
        self._load_entry_points()
        return sorted(self._by_name)

    def __iter__(self) -> Iterator[T]:
        self._load_entry_points()
        return iter(list(self._by_name.values()))

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in _entry_points_on(tuple(sys.path)).get(self.group, ()):
            try:
                factory = ep.load()
                self.register(factory())
            except Exception as exc:
                # Refused up front, by name: a plug-in that half-loaded would change
                # output silently.
                raise ConfigurationError(
                    f"plug-in {ep.name!r} in {self.group} failed to load: {exc}"
                ) from exc


@functools.lru_cache(maxsize=4)
def _entry_points_on(path: tuple[str, ...]) -> dict[str, EntryPoints]:
    """Every group's entry points, from one scan of the distributions on `path`: each
    scan reads every installed package's metadata (tens of milliseconds)."""
    everything = entry_points()
    return {group: everything.select(group=group) for group in everything.groups}
