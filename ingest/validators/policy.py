"""What validation checks and how strictly: the `ValidationPolicy` users configure, and
the base that binds a built-in validator to it."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import ClassVar, Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigurationError
from ..models import FetchedContent, SourceItem, ValidationResult
from .base import Validator

SchemaKind = Literal["json-schema", "xml-schema", "table-schema"]


class ValidationPolicy(BaseModel):
    """Which validators run, their limits, and what turns a warning into a rejection."""

    model_config = ConfigDict(extra="forbid")

    enabled: list[str] | None = Field(
        default=None,
        description="Names of the validators to run (e.g. 'text', 'json'); None runs all.",
    )
    disabled: list[str] = Field(
        default_factory=list,
        description="Names of validators (or dotted paths from `custom`) never to run.",
    )
    strict: bool = Field(
        default=False, description="Treat every warning as an error (the item is rejected)."
    )
    min_size: int = Field(
        default=1, ge=0, description="Smallest acceptable item in bytes; smaller is 'empty'."
    )
    max_line_length: int = Field(
        default=1_000_000, ge=1, description="Longest line in characters before a warning."
    )
    max_control_char_ratio: float = Field(
        default=0.05,
        ge=0.0,
        le=1.0,
        description="Largest share of control characters (other than tab, newlines, form "
        "feed) in a text.",
    )
    max_json_depth: int = Field(
        default=200, ge=1, description="Deepest nesting of arrays and objects in a JSON document."
    )
    max_json_bytes: int = Field(
        default=50 * 1024 * 1024, ge=0, description="Largest JSON document in bytes."
    )
    schemas: dict[str, str] = Field(
        default_factory=dict,
        description="Glob pattern on the item's path (or uri) -> path of a schema file: a "
        "'.xsd' file is an XML Schema for XML items, a JSON file with a top-level 'columns' "
        "object a table schema for CSV/TSV items, any other JSON file a JSON Schema for JSON "
        "items. For each item the first matching pattern, in order, whose schema is of the "
        "item's kind applies.",
    )
    custom: list[str] = Field(
        default_factory=list,
        description="User validators as dotted paths ('pkg.module:func' or 'pkg.module.func'): "
        "callables taking FetchedContent and returning a ValidationResult or a list of error "
        "messages. They run for every item, whatever `enabled` says.",
    )

    def is_enabled(self, name: str) -> bool:
        return name not in self.disabled and (self.enabled is None or name in self.enabled)

    def schema_path_for(self, item: SourceItem, kind: SchemaKind = "json-schema") -> str | None:
        """Path of the schema of `kind` for `item`, or None when no pattern with a schema
        of that kind matches. Raises ConfigurationError for a schema file that cannot be
        read (`check_policy` reports it before any work)."""
        names = [name for name in (item.path, item.uri) if name]
        for pattern, path in self.schemas.items():
            if any(fnmatchcase(name, pattern) for name in names) and schema_kind(path) == kind:
                return path
        return None


@lru_cache(maxsize=64)
def schema_kind(path: str) -> SchemaKind:
    """What a schema file is: '.xsd' is an XML Schema; a JSON object with a 'columns' key
    a table schema; any other JSON a JSON Schema. Read once per process."""
    if path.lower().endswith(".xsd"):
        return "xml-schema"
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"cannot read schema {path!r}: {exc}") from exc
    if isinstance(document, dict) and "columns" in document:
        return "table-schema"
    return "json-schema"


@runtime_checkable
class PolicyAware(Protocol):
    """A validator that takes its limits from the policy of the run."""

    def configured(self, policy: ValidationPolicy) -> Validator: ...


class PolicyValidator:
    """Base of the built-in validators: the registry holds one with the default policy,
    and `configured` makes a cheap copy bound to the policy of the run."""

    name: ClassVar[str]
    content_types: ClassVar[tuple[str, ...]]

    def __init__(self, policy: ValidationPolicy | None = None) -> None:
        self.policy = policy if policy is not None else ValidationPolicy()

    def configured(self, policy: ValidationPolicy) -> Self:
        return type(self)(policy)

    def validate(self, content: FetchedContent) -> ValidationResult:
        raise NotImplementedError
