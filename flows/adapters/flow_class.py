"""The Prefect `Flow` our flows are: parameters reach the API as pydantic dumps them.

Prefect's own `Flow.serialize_parameters` imports FastAPI for its `jsonable_encoder`,
which costs a fifth of a second of every `ingest fs` call. Every parameter of our flows
is a pydantic model or plain JSON data, which pydantic dumps to the same JSON (by alias,
as FastAPI does); anything else still goes through Prefect's way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import Flow
from pydantic_core import PydanticSerializationError, to_jsonable_python

P = ParamSpec("P")
R = TypeVar("R")


class IngestFlow(Flow[P, R]):
    def serialize_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        try:
            return {name: to_jsonable_python(value, by_alias=True)
                    for name, value in parameters.items()}  # fmt: skip
        except PydanticSerializationError:  # a future, a state, an arbitrary object
            return super().serialize_parameters(parameters)


def ingest_flow(**options: Any) -> Callable[[Callable[P, R]], IngestFlow[P, R]]:
    """`@prefect.flow(**options)`, making an `IngestFlow`."""

    def decorate(function: Callable[P, R]) -> IngestFlow[P, R]:
        return IngestFlow(fn=function, **options)

    return decorate
