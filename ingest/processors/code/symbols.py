"""The outline every language reader returns: symbols with line ranges, imports, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Symbol:
    """A definition: 1-based inclusive line range, members of containers as children."""

    name: str
    kind: str
    start: int
    end: int
    docstring: str | None = None
    children: list[Symbol] = field(default_factory=list)


@dataclass
class Outline:
    symbols: list[Symbol]
    imports: list[str]
    warnings: list[str]


def walk_symbols(symbols: list[Symbol]) -> list[Symbol]:
    """Every symbol, parents before their members, in file order."""
    found: list[Symbol] = []
    for symbol in symbols:
        found.append(symbol)
        found.extend(walk_symbols(symbol.children))
    return found
