"""YAML (front matter) loaded safely and fast: libyaml's safe loader when PyYAML was
built with it, the pure-Python one otherwise and for error messages. The validator and
the processor read the same front matter one right after the other, so the last result
is kept."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

_FastSafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=2)
def load_yaml(text: str) -> Any:
    """The document's data; raises `yaml.YAMLError` (or RecursionError) like
    `yaml.safe_load`, with the pure-Python loader's messages and marks, which point
    at the problem more precisely. Callers must not mutate the result: it is shared."""
    try:
        return yaml.load(text, Loader=_FastSafeLoader)  # noqa: S506 - a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)  # raises again, with the better message
