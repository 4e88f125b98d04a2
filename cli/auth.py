"""`ingest auth add basic|token|api-key|oauth2 NAME` and `ingest auth list`: credential blocks
for web sources. A secret is read from standard input (a hidden prompt on a terminal) or from
an environment variable named by `--secret-env`, or referenced as a Prefect Secret block with
`--secret-block`; it is never a command-line argument, and `list` never prints one."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ingest.errors import ConfigurationError

from .app import app, err_console, fail_usage

if TYPE_CHECKING:
    from blocks import WebCredentials

auth_app = typer.Typer(help="Credential blocks for `ingest web --auth NAME`.", no_args_is_help=True)
add_app = typer.Typer(
    help="Save credentials as a Prefect block. The secret comes from standard input, "
    "--secret-env VAR or --secret-block NAME, never from the command line.",
    no_args_is_help=True,
)
auth_app.add_typer(add_app, name="add")
app.add_typer(auth_app, name="auth")

NameArgument = Annotated[
    str, typer.Argument(help="Block name (lowercase letters, digits and dashes).")
]
SecretEnvOption = Annotated[
    str | None,
    typer.Option("--secret-env", metavar="VAR", help="Read the secret from this variable."),
]
SecretBlockOption = Annotated[
    str | None,
    typer.Option(
        "--secret-block",
        metavar="NAME",
        help="Use the Prefect Secret block NAME (read at each run) instead of a stored secret.",
    ),
]
OriginOption = Annotated[
    list[str] | None,
    typer.Option(
        "--origin",
        metavar="URL",
        help="Only send the credentials to this origin (repeatable); default: the seeds'.",
    ),
]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace a block of the same name and type.")
]


def _read_secret(what: str, env: str | None, block: str | None) -> str | None:
    """The secret from the environment or standard input; None when a Secret block holds it."""
    if env and block:
        raise fail_usage("pass either --secret-env or --secret-block, not both")
    if block:
        return None
    if env:
        value = os.environ.get(env, "")
        if not value:
            raise fail_usage(f"the environment variable {env} is not set or empty")
        return value
    if sys.stdin.isatty():
        value = typer.prompt(f"{what.capitalize()}", hide_input=True, err=True)
    else:
        value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise fail_usage(f"no {what} on standard input (or use --secret-env VAR)")
    return value


def _save(block: WebCredentials, name: str, overwrite: bool) -> None:
    from blocks import CREDENTIAL_BLOCKS
    from blocks.registry import find_credentials

    slug = block.get_block_type_slug()
    try:
        existing, _ = asyncio.run(find_credentials(name))
    except ConfigurationError:
        existing = None
    if existing is not None and existing.get_block_type_slug() != slug:
        raise fail_usage(
            f"{name!r} is already a {existing.get_block_type_slug()} block; pick another name "
            "so `--auth NAME` stays unambiguous"
        )
    if existing is not None and not overwrite:
        raise fail_usage(f"credentials {name!r} exist already (pass --overwrite to replace them)")
    assert type(block) in CREDENTIAL_BLOCKS
    try:
        block.save(name, overwrite=overwrite)
    except ValueError as exc:
        raise fail_usage(f"cannot save credentials {name!r}: {exc}") from exc
    origins = ", ".join(block.origins) or "the seeds' origins of each crawl"
    err_console.print(f"saved {slug}/{name} (sent only to {origins})")


def _build(cls: type[WebCredentials], **fields: Any) -> WebCredentials:
    from pydantic import ValidationError

    try:
        return cls(**fields)
    except ValidationError as exc:
        # Only the location and the message: pydantic's text would repeat the input.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'credentials'}: {err['msg']}"
            for err in exc.errors()
        )
        raise fail_usage(problems) from None


def _add(
    cls: type[WebCredentials],
    block_name: str,
    /,
    *,
    field: str,
    what: str,
    secret_env: str | None,
    secret_block: str | None,
    origin: list[str] | None,
    overwrite: bool,
    **settings: Any,
) -> None:
    """Save `cls` credentials as `block_name`. The secret (a `what`, in messages) goes in
    the field `field`, read from the environment or standard input, unless `<field>_block`
    names the Secret block that holds it."""
    value = _read_secret(what, secret_env, secret_block)
    fields = {field: value, f"{field}_block": secret_block, "origins": origin or []}
    _save(_build(cls, **fields, **settings), block_name, overwrite)


@add_app.command("basic")
def add_basic(
    name: NameArgument,
    username: Annotated[str, typer.Option("--username", help="The user name.")],
    secret_env: SecretEnvOption = None,
    secret_block: SecretBlockOption = None,
    origin: OriginOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """HTTP Basic credentials; the password comes from stdin or --secret-env."""
    from blocks import BasicAuthCredentials

    _add(
        BasicAuthCredentials,
        name,
        field="password",
        what="password",
        secret_env=secret_env,
        secret_block=secret_block,
        origin=origin,
        overwrite=overwrite,
        username=username,
    )


@add_app.command("token")
def add_token(
    name: NameArgument,
    secret_env: SecretEnvOption = None,
    secret_block: SecretBlockOption = None,
    origin: OriginOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """A bearer token; the token comes from stdin or --secret-env."""
    from blocks import BearerTokenCredentials

    _add(
        BearerTokenCredentials,
        name,
        field="token",
        what="token",
        secret_env=secret_env,
        secret_block=secret_block,
        origin=origin,
        overwrite=overwrite,
    )


@add_app.command("api-key")
def add_api_key(
    name: NameArgument,
    param: Annotated[
        str, typer.Option("--name", help="The header or query parameter that carries the key.")
    ] = "X-API-Key",
    query: Annotated[
        bool, typer.Option("--query", help="Send the key as a query parameter, not a header.")
    ] = False,
    prefix: Annotated[
        str | None, typer.Option("--prefix", help="Text before the key in the header.")
    ] = None,
    secret_env: SecretEnvOption = None,
    secret_block: SecretBlockOption = None,
    origin: OriginOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """An API key in a header or a query parameter; the key comes from stdin or --secret-env."""
    from blocks import ApiKeyCredentials

    _add(
        ApiKeyCredentials,
        name,
        field="key",
        what="API key",
        secret_env=secret_env,
        secret_block=secret_block,
        origin=origin,
        overwrite=overwrite,
        name=param,
        location="query" if query else "header",
        prefix=prefix,
    )


@add_app.command("oauth2")
def add_oauth2(
    name: NameArgument,
    token_url: Annotated[str, typer.Option("--token-url", help="The token endpoint.")],
    client_id: Annotated[str, typer.Option("--client-id", help="The client id.")],
    scope: Annotated[
        list[str] | None, typer.Option("--scope", help="A scope to request (repeatable).")
    ] = None,
    audience: Annotated[
        str | None, typer.Option("--audience", help="The audience parameter.")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", metavar="KEY=VALUE", help="Another token request parameter."),
    ] = None,
    client_auth: Annotated[
        str,
        typer.Option("--client-auth", help="basic (client_secret_basic) or body (_post)."),
    ] = "basic",
    secret_env: SecretEnvOption = None,
    secret_block: SecretBlockOption = None,
    origin: OriginOption = None,
    overwrite: OverwriteOption = False,
) -> None:
    """OAuth 2.0 client credentials; the client secret comes from stdin or --secret-env."""
    from blocks import OAuth2ClientCredentials

    extra: dict[str, str] = {}
    for pair in param or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise fail_usage(f"--param {pair!r} is not KEY=VALUE")
        extra[key] = value
    _add(
        OAuth2ClientCredentials,
        name,
        field="client_secret",
        what="client secret",
        secret_env=secret_env,
        secret_block=secret_block,
        origin=origin,
        overwrite=overwrite,
        token_url=token_url,
        client_id=client_id,
        scopes=scope or [],
        audience=audience,
        extra_params=extra,
        client_auth=client_auth,
    )


@auth_app.command("list")
def list_auth(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON on stdout.")] = False,
) -> None:
    """Saved credential blocks with their non-secret settings (never a secret)."""
    from blocks import list_credentials

    rows = asyncio.run(list_credentials())
    if as_json:
        data = [{"name": name, "type": slug, "settings": shown} for name, slug, shown in rows]
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    table = Table(title="credentials")
    for column in ("name", "type", "settings"):
        table.add_column(column)
    for name, slug, shown in rows:
        settings = ", ".join(f"{key}={value}" for key, value in shown.items() if value)
        table.add_row(name, slug, settings)
    Console().print(table)


def check_auth(name: str) -> None:
    """Exit 2 unless credentials `name` exist and are web credentials (no secret is read)."""
    from blocks import find_credentials

    try:
        asyncio.run(find_credentials(name))
    except ConfigurationError as exc:
        raise fail_usage(exc.reason) from exc
