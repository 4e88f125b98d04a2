"""What the Prefect UI renders from a parameter or block schema: the deployments' schemas
built as `prefect deploy` and `serve` build them, `$ref`s resolved, and the values a form
starts with (the deployment's parameters, then each field's default)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from tests.support.paths import REPO_ROOT


def deploy_schema(entrypoint: str) -> dict[str, Any]:
    """The parameter schema `prefect deploy` sends for `entrypoint` (prefect.yaml's)."""
    from prefect.flows import load_flow_from_entrypoint
    from prefect.utilities.callables import parameter_schema

    flow = load_flow_from_entrypoint(str(REPO_ROOT / entrypoint))
    return parameter_schema(flow).model_dump_for_openapi()


def resolved(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    """`node` with its `$ref` replaced by the definition (as the UI merges them)."""
    ref = node.get("$ref")
    if not ref:
        return node
    name = ref.rsplit("/", 1)[-1]
    definitions = root.get("definitions") or root.get("$defs") or {}
    return {**definitions[name], **{k: v for k, v in node.items() if k != "$ref"}}


def fields(schema: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(dotted name, resolved property) of every field the form shows, nested ones too."""

    def walk(prefix: str, node: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
        for name, prop in (node.get("properties") or {}).items():
            prop = resolved(prop, schema)
            yield f"{prefix}{name}", prop
            if prop.get("type") == "object":
                yield from walk(f"{prefix}{name}.", prop)
            items = prop.get("items")
            if prop.get("type") == "array" and isinstance(items, dict):
                yield from walk(f"{prefix}{name}[].", resolved(items, schema))

    yield from walk("", schema)


def form_values(schema: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """The values a form submits untouched: `values` (the deployment's parameters), every
    missing field filled with its default, nested objects likewise."""

    def fill(node: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
        out = copy.deepcopy(given)
        for name, prop in (node.get("properties") or {}).items():
            prop = resolved(prop, schema)
            if name not in out and "default" in prop:
                out[name] = copy.deepcopy(prop["default"])
            if prop.get("type") == "object" and prop.get("properties"):
                # the UI shows a nested object's fields, each starting at its default
                out[name] = fill(prop, out.get(name) or {})
        return out

    return fill(schema, values)
