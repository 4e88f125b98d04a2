"""Option groups: a frozen dataclass whose fields are typer options, declared once and
spread into the signature of every command that takes it; the command receives one
instance. An old spelling of an option stays as a hidden alias for one release."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import typer

from .app import err_console, fail_usage

F = TypeVar("F", bound=Callable[..., Any])
_KEYWORD = inspect.Parameter.KEYWORD_ONLY
_CONTEXT = "typer_context"  # where an alias learns whether the new spelling was given too
_GIVEN = {"COMMANDLINE", "ENVIRONMENT"}


@dataclass(frozen=True)
class Group:
    """How one command takes a group: defaults of its own, fields it leaves out (they
    keep the dataclass default), and hidden old spellings `{"--flag": "field"}`."""

    cls: type
    defaults: Mapping[str, Any] = field(default_factory=dict)
    omit: frozenset[str] = frozenset()
    aliases: Mapping[str, str] = field(default_factory=dict)

    def parameters(self) -> list[inspect.Parameter]:
        hints = typing.get_type_hints(self.cls, include_extras=True)
        return [
            inspect.Parameter(
                f.name,
                _KEYWORD,
                default=self.defaults.get(f.name, f.default),
                annotation=hints[f.name],
            )
            for f in dataclasses.fields(self.cls)
            if f.name not in self.omit
        ]

    def alias_parameters(self) -> dict[str, tuple[str, str]]:
        """{parameter name: (flag, field)} of the hidden aliases."""
        return {_alias_name(flag): (flag, target) for flag, target in self.aliases.items()}

    def alias_parameter(self, flag: str, target: str) -> inspect.Parameter:
        hint = typing.get_type_hints(self.cls, include_extras=True)[target]
        base, info = typing.get_args(hint)[:2]
        option = typer.Option(flag, hidden=True, min=info.min, max=info.max)
        return inspect.Parameter(
            _alias_name(flag), _KEYWORD, default=None, annotation=Annotated[base | None, option]
        )


def takes(**groups: Group | type) -> Callable[[F], F]:
    """Spread each group's options into the command's signature where its (keyword-only)
    parameter stands, and call the command with one instance per group."""
    specs = {name: g if isinstance(g, Group) else Group(g) for name, g in groups.items()}

    def decorate(command: F) -> F:
        hints = typing.get_type_hints(command, include_extras=True)
        parameters: list[inspect.Parameter] = []
        for parameter in inspect.signature(command).parameters.values():
            spec = specs.get(parameter.name)
            if spec is None:
                parameters.append(parameter.replace(annotation=hints[parameter.name]))
                continue
            parameters += spec.parameters()
            parameters += [spec.alias_parameter(*pair) for pair in spec.aliases.items()]
        parameters.append(inspect.Parameter(_CONTEXT, _KEYWORD, annotation=typer.Context))

        @functools.wraps(command)
        def run(**values: Any) -> Any:
            context = values.pop(_CONTEXT)
            for name, spec in specs.items():
                for alias, (flag, target) in spec.alias_parameters().items():
                    given = _source(context, target) in _GIVEN
                    _apply_alias(values, values.pop(alias), flag, target, spec.cls, given)
                names = [p.name for p in spec.parameters()]
                values[name] = spec.cls(**{n: values.pop(n) for n in names})
            return command(**values)

        run.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(F, run)

    return decorate


def _alias_name(flag: str) -> str:
    return "alias_" + flag.lstrip("-").replace("-", "_")


def _source(context: typer.Context, name: str) -> str | None:
    source = context.get_parameter_source(name)
    return source.name if source is not None else None


def _apply_alias(
    values: dict[str, Any], value: Any, flag: str, target: str, cls: type, given: bool
) -> None:
    """The old spelling's value, unless it is absent; with the new spelling given too,
    both must agree."""
    if value is None:
        return
    hint = typing.get_type_hints(cls, include_extras=True)[target]
    new_flag = typing.get_args(hint)[1].default
    if given and values[target] != value:
        raise fail_usage(f"{flag} is the old name of {new_flag}: give only one of them")
    err_console.print(f"note: {flag} is now {new_flag}; the old name goes in a later release")
    values[target] = value
