"""Finding, loading, listing and registering the web credential blocks by name.

A name is `NAME` (looked up among the four credential block types) or `TYPE-SLUG/NAME`.
Checks read block documents without their secrets; only `load_credentials` reads them.
"""

from __future__ import annotations

from typing import Any

from prefect.client.orchestration import get_client
from prefect.exceptions import ObjectNotFound

from ingest.errors import ConfigurationError

from .credentials import _BY_SLUG, CREDENTIAL_BLOCKS, WebCredentials

_HOW_TO_ADD = "create one with `ingest auth add basic|token|api-key|oauth2 NAME`"


def _split(name: str) -> tuple[str | None, str]:
    if not name or not name.strip():
        raise ConfigurationError("the credentials block name is empty")
    slug, sep, rest = name.partition("/")
    return (slug, rest) if sep else (None, name)


async def find_credentials(name: str) -> tuple[type[WebCredentials], str]:
    """The block class and document name of credentials `name`, checked without reading
    any secret; ConfigurationError when there is none, it is ambiguous or of another type."""
    slug, document = _split(name)
    kinds = ", ".join(_BY_SLUG)
    if slug is not None and slug not in _BY_SLUG:
        raise ConfigurationError(
            f"credentials {name!r}: block type {slug!r} is not web credentials (one of {kinds})"
        )
    found: list[type[WebCredentials]] = []
    async with get_client() as client:
        for candidate in [slug] if slug else list(_BY_SLUG):
            assert candidate is not None
            try:
                await client.read_block_document_by_name(document, candidate, include_secrets=False)
            except ObjectNotFound:
                continue
            found.append(_BY_SLUG[candidate])
        if not found:
            others = sorted(
                doc.block_type.slug
                for doc in await client.read_block_documents(include_secrets=False)
                if doc.name == document and doc.block_type is not None
            )
    if len(found) > 1:
        options = " or ".join(f"{cls.get_block_type_slug()}/{document}" for cls in found)
        raise ConfigurationError(f"credentials {name!r} are ambiguous: pass {options}")
    if not found:
        if others:
            raise ConfigurationError(
                f"block {document!r} is a {others[0]} block, not web credentials (one of {kinds})"
            )
        raise ConfigurationError(f"no credentials block named {name!r}; {_HOW_TO_ADD}")
    return found[0], document


async def load_credentials(name: str) -> WebCredentials:
    """The credentials block `name`, with its secrets (call inside a task, never pass the
    result as a flow parameter)."""
    cls, document = await find_credentials(name)
    block = await cls.aload(document)
    return block


async def list_credentials() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, block type slug, non-secret settings) of every saved credentials block."""
    rows: list[tuple[str, str, dict[str, Any]]] = []
    async with get_client() as client:
        for slug, cls in _BY_SLUG.items():
            try:
                documents = await client.read_block_documents_by_type(slug, include_secrets=False)
            except ObjectNotFound:
                continue
            for doc in documents:
                shown = {
                    key: value
                    for key, value in doc.data.items()
                    if key in cls.model_fields and not _is_secret(cls, key)
                }
                for key in cls.model_fields:
                    if _is_secret(cls, key) and doc.data.get(key) is not None:
                        shown[key] = "(stored in the block)"
                rows.append((doc.name or "", slug, shown))
    return sorted(rows)


def _is_secret(cls: type[WebCredentials], field: str) -> bool:
    annotation = cls.model_fields[field].annotation
    return "SecretStr" in str(annotation)


async def aregister_blocks() -> list[str]:
    """Register the credential block types with the Prefect API (idempotent), so they
    appear in the UI's block catalogue; returns their slugs."""
    for cls in CREDENTIAL_BLOCKS:
        await cls.aregister_type_and_schema()
    return [cls.get_block_type_slug() for cls in CREDENTIAL_BLOCKS]


def register_blocks() -> list[str]:
    """`aregister_blocks` for synchronous callers (`python -c 'import blocks;
    blocks.register_blocks()'`); `prefect block register -m blocks` does the same."""
    from prefect.utilities.asyncutils import run_coro_as_sync

    return run_coro_as_sync(aregister_blocks()) or []
