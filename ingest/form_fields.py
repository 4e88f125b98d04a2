"""Field types for settings that users fill in forms (the Prefect UI renders one from a
flow's parameters or a block's fields): a plain typed value whose empty form means "the
default", instead of an optional type the form shows as a type picker.

`None` from older callers (saved parameters, scripts) still validates, as the empty value.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def _none_as_empty_text(value: Any) -> Any:
    return "" if value is None else value


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


OptionalText = Annotated[str, BeforeValidator(_none_as_empty_text)]
"""Text where "" means "not set" (the documented default applies)."""

OptionalTextList = Annotated[list[str], BeforeValidator(_none_as_empty_list)]
"""A list of texts where [] means "not set" (the documented default applies)."""
