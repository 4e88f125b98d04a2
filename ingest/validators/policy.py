"""What validation checks and how strictly: the `ValidationPolicy` users configure, and
the base that binds a built-in validator to it."""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol, Self, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import ConfigurationError
from ..form_fields import OptionalTextList
from ..models import FetchedContent, SourceItem, ValidationResult
from .base import Validator

SchemaKind = Literal["json-schema", "xml-schema", "table-schema"]


class SchemaMapping(BaseModel):
    """The schema file that validates the items whose path matches a glob."""

    model_config = ConfigDict(
        extra="forbid", validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )

    glob: str = Field(
        min_length=1,
        description="Glob on the item's path (or uri), e.g. data/*.json.",
        examples=["data/*.json"],
    )
    # `schema` is the name users see (forms, JSON, `--schema GLOB=FILE`); as an attribute
    # it would shadow pydantic's deprecated BaseModel.schema().
    schema_path: str = Field(
        alias="schema",
        min_length=1,
        description="Path of the schema file (.xsd, a table schema or a JSON Schema).",
        examples=["schemas/item.json"],
    )


class ValidationPolicy(BaseModel):
    """Which validators run, their limits, and what turns a warning into a rejection."""

    model_config = ConfigDict(extra="forbid")

    enabled: OptionalTextList = Field(
        default=[],
        description="Names of the validators to run (e.g. 'text', 'json'); empty runs all.",
    )
    disabled: list[str] = Field(
        default=[],
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
    schemas: list[SchemaMapping] = Field(
        default=[],
        description="Schema files by glob on the item's path (or uri): a '.xsd' file is an "
        "XML Schema for XML items, a JSON file with a top-level 'columns' object a table "
        "schema for CSV/TSV items, any other JSON file a JSON Schema for JSON items. For each "
        "item the first matching glob, in order, whose schema is of the item's kind applies.",
    )
    custom: list[str] = Field(
        default=[],
        description="User validators as dotted paths ('pkg.module:func' or 'pkg.module.func'): "
        "callables taking FetchedContent and returning a ValidationResult or a list of error "
        "messages. They run for every item, whatever `enabled` says.",
    )

    @field_validator("schemas", mode="before")
    @classmethod
    def _schemas_from_mapping(cls, value: Any) -> Any:
        """The earlier form, {glob: schema file}, still reads (in its order)."""
        if value is None:
            return []
        if isinstance(value, dict):
            return [{"glob": glob, "schema": path} for glob, path in value.items()]
        return value

    def is_enabled(self, name: str) -> bool:
        return name not in self.disabled and (not self.enabled or name in self.enabled)

    def schema_path_for(self, item: SourceItem, kind: SchemaKind = "json-schema") -> str | None:
        """Path of the schema of `kind` for `item`, or None when no pattern with a schema
        of that kind matches. Raises ConfigurationError for a schema file that cannot be
        read (`check_policy` reports it before any work)."""
        names = [name for name in (item.path, item.uri) if name]
        for mapping in self.schemas:
            path = mapping.schema_path
            if any(fnmatchcase(name, mapping.glob) for name in names) and schema_kind(path) == kind:
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
