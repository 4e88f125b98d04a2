"""Credentials of web sources as Prefect Blocks: HTTP Basic, a bearer token, an API key and
the OAuth 2.0 client credentials grant, each bound to the origins it may be sent to.

A secret is a `SecretStr` field, or the name of a Prefect `Secret` block read at each load
(rotate the `Secret`, the next run uses the new value). Flows take a block *name*; the block
is loaded inside a task and turned into an `ingest.sources.web.auth.OriginAuth`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from ingest.errors import ConfigurationError
from ingest.form_fields import OptionalTextList
from ingest.sources.web.auth import (
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    Credential,
    OAuth2ClientCredential,
    OriginAuth,
    bound_origins,
)

DOCS_URL = "https://docs.prefect.io/v3/concepts/blocks"
_ORIGINS_DESCRIPTION = (
    "Origins (scheme://host[:port]) these credentials may be sent to; empty: the origins of "
    "the crawl's seed URLs. Requests to any other origin, redirects and links included, "
    "never carry them."
)


def _secret_field(what: str) -> Any:
    return Field(default=None, description=f"The {what}; or leave empty and name a Secret block.")


def _reference_field(what: str, field: str) -> Any:
    return Field(
        default=None,
        description=f"Name of a Prefect Secret block holding the {what}, used instead of "
        f"`{field}`; read at each load, so rotating it takes effect on the next run.",
    )


async def _resolve(value: SecretStr | None, block_name: str | None, what: str) -> SecretStr:
    """The secret itself, from the field or from the named Secret block."""
    if value is not None:
        return value
    from prefect.blocks.system import Secret

    assert block_name is not None  # the model validator requires one of the two
    try:
        secret: Secret[Any] = await Secret.aload(block_name)  # type: ignore[misc]
    except ValueError as exc:
        raise ConfigurationError(
            f"the {what} refers to the Secret block {block_name!r}, which does not exist"
        ) from exc
    raw = secret.get()
    if not isinstance(raw, str) or not raw:
        raise ConfigurationError(f"the Secret block {block_name!r} does not hold a text {what}")
    return SecretStr(raw)


def _one_of(model: Any, field: str, reference: str) -> None:
    if (getattr(model, field) is None) == (getattr(model, reference) is None):
        raise ValueError(f"set exactly one of {field} and {reference}")


class WebCredentials(Block, ABC):
    """Base of the web source credentials; not a block type of its own."""

    _logo_url = None
    _documentation_url = DOCS_URL  # type: ignore[assignment]

    origins: OptionalTextList = Field(default=[], description=_ORIGINS_DESCRIPTION)

    @abstractmethod
    async def credential(self) -> Credential:
        """The credential with its secrets, resolved now (Secret blocks are read here)."""

    async def bind(self, seeds: list[str], *, label: str) -> OriginAuth:
        """An httpx auth flow that signs requests to this block's origins only (the seeds'
        origins when it names none)."""
        return OriginAuth(await self.credential(), bound_origins(self.origins, seeds), label=label)


class BasicAuthCredentials(WebCredentials):
    """A user name and password sent with HTTP Basic authentication (RFC 7617) to the
    origins of a crawl. Load it by name with `ingest web --auth NAME`."""

    _block_type_name = "Basic Auth Credentials"
    _block_type_slug = "basic-auth-credentials"
    _description = (
        "HTTP Basic credentials (user name and password) that aichemist-ingest sends only to "
        "the origins they are bound to."
    )
    _code_example = """
    ```python
    from blocks import BasicAuthCredentials

    BasicAuthCredentials(username="crawler", password="...", origins=["https://intranet.example"]).save("intranet")
    basic_auth_credentials_block = BasicAuthCredentials.load("BLOCK_NAME")
    ```
    """

    username: str = Field(min_length=1, description="The user name.", examples=["crawler"])
    password: SecretStr | None = _secret_field("password")
    password_block: str | None = _reference_field("password", "password")

    @model_validator(mode="after")
    def _one_password(self) -> BasicAuthCredentials:
        _one_of(self, "password", "password_block")
        return self

    async def credential(self) -> Credential:
        return BasicCredential(
            self.username, await _resolve(self.password, self.password_block, "password")
        )


class BearerTokenCredentials(WebCredentials):
    """A static token sent as `Authorization: Bearer <token>` (RFC 6750)."""

    _block_type_name = "Bearer Token Credentials"
    _block_type_slug = "bearer-token-credentials"
    _description = (
        "A static bearer token that aichemist-ingest sends as `Authorization: Bearer ...` only "
        "to the origins it is bound to."
    )
    _code_example = """
    ```python
    from blocks import BearerTokenCredentials

    BearerTokenCredentials(token="...", origins=["https://docs.example"]).save("docs-token")
    bearer_token_credentials_block = BearerTokenCredentials.load("BLOCK_NAME")
    ```
    """

    token: SecretStr | None = _secret_field("bearer token")
    token_block: str | None = _reference_field("bearer token", "token")

    @model_validator(mode="after")
    def _one_token(self) -> BearerTokenCredentials:
        _one_of(self, "token", "token_block")
        return self

    async def credential(self) -> Credential:
        return BearerCredential(await _resolve(self.token, self.token_block, "token"))


class ApiKeyCredentials(WebCredentials):
    """An API key sent in a request header or as a query parameter."""

    _block_type_name = "API Key Credentials"
    _block_type_slug = "api-key-credentials"
    _description = (
        "An API key that aichemist-ingest sends in a header (for example `X-API-Key`) or as a "
        "query parameter, only to the origins it is bound to."
    )
    _code_example = """
    ```python
    from blocks import ApiKeyCredentials

    ApiKeyCredentials(key="...", name="X-API-Key", location="header").save("docs-key")
    api_key_credentials_block = ApiKeyCredentials.load("BLOCK_NAME")
    ```
    """

    key: SecretStr | None = _secret_field("API key")
    key_block: str | None = _reference_field("API key", "key")
    name: str = Field(
        default="X-API-Key",
        min_length=1,
        description="The header or query parameter that carries the key.",
        examples=["X-API-Key", "api_key"],
    )
    location: Literal["header", "query"] = Field(
        default="header",
        description="Where the key goes: a request header, or a query parameter. A query "
        "parameter ends up in server access logs; prefer a header when the site allows it.",
    )
    prefix: str | None = Field(
        default=None,
        description="Text put before the key in the header, for example `ApiKey`.",
    )

    @model_validator(mode="after")
    def _one_key(self) -> ApiKeyCredentials:
        _one_of(self, "key", "key_block")
        if self.prefix and self.location == "query":
            raise ValueError("prefix applies to a header key only")
        return self

    async def credential(self) -> Credential:
        key = await _resolve(self.key, self.key_block, "API key")
        return ApiKeyCredential(key, self.name, self.location, self.prefix)


class OAuth2ClientCredentials(WebCredentials):
    """The OAuth 2.0 client credentials grant (RFC 6749 section 4.4): an access token is
    fetched from the token URL, kept until shortly before it expires, refreshed then and
    once more when a page answers 401."""

    _block_type_name = "OAuth2 Client Credentials"
    _block_type_slug = "oauth2-client-credentials"
    _description = (
        "OAuth 2.0 client credentials: aichemist-ingest fetches an access token from the token "
        "URL, caches it until shortly before it expires, refreshes it then or on a 401, and "
        "sends it only to the origins it is bound to."
    )
    _code_example = """
    ```python
    from blocks import OAuth2ClientCredentials

    OAuth2ClientCredentials(
        token_url="https://auth.example/oauth/token",
        client_id="ingest",
        client_secret="...",
        scopes=["docs.read"],
        origins=["https://docs.example"],
    ).save("docs-oauth")
    oauth2_client_credentials_block = OAuth2ClientCredentials.load("BLOCK_NAME")
    ```
    """

    token_url: str = Field(
        description="The token endpoint (an http or https URL; https outside tests).",
        examples=["https://auth.example/oauth/token"],
    )
    client_id: str = Field(min_length=1, description="The client id.")
    client_secret: SecretStr | None = _secret_field("client secret")
    client_secret_block: str | None = _reference_field("client secret", "client_secret")
    scopes: list[str] = Field(
        default_factory=list, description="Scopes requested, sent space-separated."
    )
    audience: str | None = Field(
        default=None, description="The `audience` parameter some providers require."
    )
    extra_params: dict[str, str] = Field(
        default_factory=dict,
        description="Other form parameters of the token request (not secrets: they are "
        "stored in plain text).",
    )
    client_auth: Literal["basic", "body"] = Field(
        default="basic",
        description="How the client authenticates to the token endpoint: HTTP Basic "
        "(client_secret_basic) or in the form body (client_secret_post).",
    )
    refresh_margin_s: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before expiry at which the token is refreshed (at most half "
        "its lifetime).",
    )

    @model_validator(mode="after")
    def _checked(self) -> OAuth2ClientCredentials:
        _one_of(self, "client_secret", "client_secret_block")
        if not self.token_url.startswith(("https://", "http://")):
            raise ValueError(f"token_url {self.token_url!r} is not an http or https URL")
        return self

    async def credential(self) -> Credential:
        secret = await _resolve(self.client_secret, self.client_secret_block, "client secret")
        return OAuth2ClientCredential(
            token_url=self.token_url,
            client_id=self.client_id,
            client_secret=secret,
            scopes=tuple(self.scopes),
            audience=self.audience,
            extra_params=tuple(sorted(self.extra_params.items())),
            client_auth=self.client_auth,
            refresh_margin=self.refresh_margin_s,
        )


CREDENTIAL_BLOCKS: tuple[type[WebCredentials], ...] = (
    BasicAuthCredentials,
    BearerTokenCredentials,
    ApiKeyCredentials,
    OAuth2ClientCredentials,
)
_BY_SLUG = {cls.get_block_type_slug(): cls for cls in CREDENTIAL_BLOCKS}
