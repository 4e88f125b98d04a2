"""User validators named by dotted path in `ValidationPolicy.custom`, imported once per
process and adapted to return a `ValidationResult`.

Codes: error ``custom`` (each message a rule returns as a string).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from functools import lru_cache

from ..errors import ConfigurationError
from ..models import FetchedContent, ValidationIssue, ValidationResult

Check = Callable[[FetchedContent], ValidationResult]


def resolve(path: str) -> Callable[..., object]:
    """The callable at 'pkg.module:attr' or 'pkg.module.attr'; ConfigurationError if none."""
    module_name, sep, attr = path.partition(":")
    if not sep:
        module_name, _, attr = path.rpartition(".")
    if not module_name or not attr:
        raise ConfigurationError(
            f"custom validator {path!r} is not a dotted path like 'package.module:function'"
        )
    try:
        target: object = importlib.import_module(module_name)
    except Exception as exc:  # any import-time failure of user code is a configuration error
        raise ConfigurationError(
            f"custom validator {path!r}: cannot import {module_name!r}: {exc}"
        ) from exc
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(
                f"custom validator {path!r}: {module_name!r} has no attribute {attr!r}"
            ) from None
    if not callable(target):
        raise ConfigurationError(f"custom validator {path!r} is not callable")
    return target


def adapt(path: str, rule: Callable[..., object]) -> Check:
    """Wrap `rule` so it always returns a `ValidationResult`."""

    def check(content: FetchedContent) -> ValidationResult:
        result = rule(content)
        if isinstance(result, ValidationResult):
            return result
        if isinstance(result, list | tuple) and all(isinstance(m, str) for m in result):
            return ValidationResult(
                errors=[ValidationIssue(code="custom", message=message) for message in result]
            )
        raise TypeError(
            f"{path} returned {type(result).__name__}; expected a ValidationResult "
            "or a list of error messages"
        )

    return check


@lru_cache(maxsize=64)
def load_rules(paths: tuple[str, ...]) -> tuple[tuple[str, Check], ...]:
    """(dotted path, check) for each path; raises ConfigurationError on the first bad one."""
    return tuple((path, adapt(path, resolve(path))) for path in paths)
