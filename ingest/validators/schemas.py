"""Loading any schema file the policy maps items to, by its kind: JSON Schema, XML Schema
or table schema (see `policy.schema_kind`)."""

from __future__ import annotations

from .json_data import load_schema
from .policy import schema_kind
from .table_schema import load_table_schema
from .xml_schema import load_xsd


def load_any_schema(path: str) -> None:
    """Load (and cache) the schema at `path` with the loader of its kind; raises
    ConfigurationError when it cannot be read, lxml is missing for an `.xsd`, or the
    schema itself is invalid."""
    kind = schema_kind(path)
    if kind == "xml-schema":
        load_xsd(path)
    elif kind == "table-schema":
        load_table_schema(path)
    else:
        load_schema(path)
