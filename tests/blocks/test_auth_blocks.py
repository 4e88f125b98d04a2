"""The credential blocks: Prefect's standard block test suite for each, masking of secret
fields, save/load round trips through a real Prefect API, Secret block references (rotation
included), registration, and finding a block by name with clear errors."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import pytest
from prefect.blocks.core import Block
from prefect.testing.standard_test_suites.blocks import BlockStandardTestSuite
from pydantic import SecretStr, ValidationError

from blocks import (
    CREDENTIAL_BLOCKS,
    ApiKeyCredentials,
    BasicAuthCredentials,
    BearerTokenCredentials,
    OAuth2ClientCredentials,
    WebCredentials,
    find_credentials,
    load_credentials,
    register_blocks,
)
from ingest.errors import ConfigurationError
from ingest.sources.web.auth import (
    ApiKeyCredential,
    BasicCredential,
    BearerCredential,
    OAuth2ClientCredential,
)

SECRET = "blk-" + uuid.uuid4().hex


def example(cls: type[WebCredentials], secret: str = SECRET) -> WebCredentials:
    """One filled-in block of each type."""
    if cls is BasicAuthCredentials:
        return BasicAuthCredentials(username="crawler", password=secret)
    if cls is BearerTokenCredentials:
        return BearerTokenCredentials(token=secret, origins=["https://docs.example.org"])
    if cls is ApiKeyCredentials:
        return ApiKeyCredentials(key=secret, name="api_key", location="query")
    return OAuth2ClientCredentials(
        token_url="https://auth.example.org/token",
        client_id="ingest",
        client_secret=secret,
        scopes=["a", "b"],
        audience="docs",
        extra_params={"resource": "docs"},
    )


SECRET_FIELD = {
    BasicAuthCredentials: "password",
    BearerTokenCredentials: "token",
    ApiKeyCredentials: "key",
    OAuth2ClientCredentials: "client_secret",
}


class TestBlockStandards(BlockStandardTestSuite):
    @pytest.fixture(params=CREDENTIAL_BLOCKS, ids=lambda cls: cls.__name__)
    def block(self, request: pytest.FixtureRequest) -> type[Block]:
        return request.param  # type: ignore[no-any-return]

    def test_has_a_valid_image(self, block: type[Block]) -> None:
        # The standard test downloads the logo; these blocks have none (no internet here).
        assert block._logo_url is None


@pytest.mark.parametrize("cls", CREDENTIAL_BLOCKS, ids=lambda cls: cls.__name__)
def test_secret_fields_are_declared_and_masked(cls: type[WebCredentials]) -> None:
    field = SECRET_FIELD[cls]
    schema = cls.model_json_schema()
    assert schema["secret_fields"] == [field]
    assert schema["block_type_slug"] == cls.get_block_type_slug()
    block = example(cls)
    assert isinstance(getattr(block, field), SecretStr)
    for shown in (
        repr(block),
        str(block),
        str(block.model_dump()),
        str(block.model_dump(mode="json")),
        block.model_dump_json(),
    ):
        assert SECRET not in shown
    assert block.model_dump(mode="json")[field] == "**********"


@pytest.mark.parametrize("cls", CREDENTIAL_BLOCKS, ids=lambda cls: cls.__name__)
def test_exactly_one_source_of_the_secret(cls: type[WebCredentials]) -> None:
    field = SECRET_FIELD[cls]
    data = example(cls).model_dump()
    data.pop("block_type_slug")
    with pytest.raises(ValidationError, match=f"exactly one of {field}"):
        cls(**{**data, field: None})
    with pytest.raises(ValidationError, match=f"exactly one of {field}") as caught:
        cls(**{**data, f"{field}_block": "some-secret"})
    assert SECRET not in str(caught.value)


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValidationError, match="not an http or https URL"):
        OAuth2ClientCredentials(token_url="ftp://x/token", client_id="c", client_secret="s")
    with pytest.raises(ValidationError, match="prefix applies to a header key only"):
        ApiKeyCredentials(key="k", location="query", prefix="ApiKey")
    with pytest.raises(ValidationError):
        BasicAuthCredentials(username="", password="p")


def test_credentials_carry_the_settings() -> None:
    async def main() -> list[Any]:
        return [await example(cls).credential() for cls in CREDENTIAL_BLOCKS]

    basic, bearer, key, oauth = asyncio.run(main())
    assert isinstance(basic, BasicCredential)
    assert basic.username == "crawler"
    assert basic.password.get_secret_value() == SECRET
    assert isinstance(bearer, BearerCredential)
    assert isinstance(key, ApiKeyCredential)
    assert key.params() == {"api_key": SECRET}
    assert isinstance(oauth, OAuth2ClientCredential)
    request = oauth.token_request()
    assert request.url == "https://auth.example.org/token"
    body = request.read().decode()
    assert "grant_type=client_credentials" in body
    assert "scope=a+b" in body
    assert "audience=docs" in body
    assert "resource=docs" in body
    assert SECRET not in body  # client_secret_basic: in the Authorization header


# -- through a real Prefect API -----------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.mark.prefect
@pytest.mark.parametrize("cls", CREDENTIAL_BLOCKS, ids=lambda cls: cls.__name__)
def test_save_load_round_trip_and_the_api_masks_secrets(
    prefect_api: str, cls: type[WebCredentials]
) -> None:
    from prefect.client.orchestration import get_client

    name = unique("round-trip")
    block = example(cls)
    block.save(name)
    loaded = cls.load(name)
    assert loaded.model_dump() == block.model_dump()
    field = SECRET_FIELD[cls]
    assert getattr(loaded, field).get_secret_value() == SECRET

    async def api_view() -> dict[str, Any]:
        async with get_client() as client:
            document = await client.read_block_document_by_name(
                name, cls.get_block_type_slug(), include_secrets=False
            )
            return document.data

    data = asyncio.run(api_view())
    assert SECRET not in str(data)
    assert set(str(data[field])) == {"*"}

    found, document = asyncio.run(find_credentials(name))
    assert (found, document) == (cls, name)
    by_slug = asyncio.run(load_credentials(f"{cls.get_block_type_slug()}/{name}"))
    assert isinstance(by_slug, cls)


@pytest.mark.prefect
def test_a_secret_block_reference_is_read_at_each_load(prefect_api: str) -> None:
    from prefect.blocks.system import Secret

    secret_name, name = unique("password"), unique("by-reference")
    Secret(value="first-" + SECRET).save(secret_name)
    BasicAuthCredentials(username="crawler", password_block=secret_name).save(name)

    async def password() -> str:
        block = await load_credentials(name)
        credential = await block.credential()
        assert isinstance(credential, BasicCredential)
        return credential.password.get_secret_value()

    assert asyncio.run(password()) == "first-" + SECRET
    Secret(value="rotated-" + SECRET).save(secret_name, overwrite=True)
    assert asyncio.run(password()) == "rotated-" + SECRET

    missing = unique("dangling")
    BearerTokenCredentials(token_block=unique("nowhere")).save(missing)
    with pytest.raises(ConfigurationError, match="Secret block .* does not exist"):
        asyncio.run(asyncio.run(load_credentials(missing)).credential())


@pytest.mark.prefect
def test_missing_ambiguous_and_foreign_blocks_are_clear_errors(prefect_api: str) -> None:
    from prefect.blocks.system import Secret

    with pytest.raises(ConfigurationError, match="no credentials block named 'absent'.*auth add"):
        asyncio.run(find_credentials("absent"))
    foreign = unique("just-a-secret")
    Secret(value=SECRET).save(foreign)
    with pytest.raises(ConfigurationError, match=f"{foreign}' is a secret block, not web cred"):
        asyncio.run(find_credentials(foreign))
    with pytest.raises(ConfigurationError, match="block type 'secret' is not web credentials"):
        asyncio.run(find_credentials(f"secret/{foreign}"))
    twice = unique("twice")
    example(BasicAuthCredentials).save(twice)
    example(BearerTokenCredentials).save(twice)
    with pytest.raises(ConfigurationError, match="ambiguous: pass basic-auth-credentials/"):
        asyncio.run(find_credentials(twice))


@pytest.mark.prefect
def test_blocks_register_in_the_catalogue(prefect_api: str) -> None:
    from prefect.client.orchestration import get_client

    assert register_blocks() == [cls.get_block_type_slug() for cls in CREDENTIAL_BLOCKS]

    async def described() -> list[str | None]:
        async with get_client() as client:
            return [
                (await client.read_block_type_by_slug(cls.get_block_type_slug())).description
                for cls in CREDENTIAL_BLOCKS
            ]

    assert all(asyncio.run(described()))
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    run = subprocess.run(
        [sys.executable, "-m", "prefect", "block", "register", "-m", "blocks"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Successfully registered 4 blocks" in run.stdout
