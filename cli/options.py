"""Parsing of option values shared by commands (sizes, schema mappings, store URLs)."""

from __future__ import annotations

import re

from ingest.errors import ConfigurationError

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(text: str) -> int:
    """'10MB', '512KiB', '1.5g', '2048' -> bytes."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if not match or unit not in _UNITS:
        raise ConfigurationError(
            f"invalid size {text!r}: use a number with an optional unit "
            "(B, KB, KiB, MB, MiB, GB, GiB)"
        )
    size = int(float(match.group(1)) * _UNITS[unit])
    if size <= 0:
        raise ConfigurationError(f"invalid size {text!r}: must be greater than zero")
    return size


def parse_schema_mappings(values: list[str]) -> dict[str, str]:
    """'data/*.json=schemas/item.json' pairs -> {glob: schema path}."""
    mappings: dict[str, str] = {}
    for value in values:
        pattern, sep, schema = value.partition("=")
        if not sep or not pattern or not schema:
            raise ConfigurationError(f"invalid --schema {value!r}: expected GLOB=SCHEMA_FILE")
        mappings[pattern] = schema
    return mappings
