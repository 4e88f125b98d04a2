"""Credential blocks of aichemist-ingest: `prefect block register -m blocks` (or
`blocks.register_blocks()`) adds them to the Prefect UI's block catalogue."""

from __future__ import annotations

from .credentials import (
    CREDENTIAL_BLOCKS,
    ApiKeyCredentials,
    BasicAuthCredentials,
    BearerTokenCredentials,
    OAuth2ClientCredentials,
    WebCredentials,
)
from .registry import (
    aregister_blocks,
    find_credentials,
    list_credentials,
    load_credentials,
    register_blocks,
)

__all__ = [
    "CREDENTIAL_BLOCKS",
    "ApiKeyCredentials",
    "BasicAuthCredentials",
    "BearerTokenCredentials",
    "OAuth2ClientCredentials",
    "WebCredentials",
    "aregister_blocks",
    "find_credentials",
    "list_credentials",
    "load_credentials",
    "register_blocks",
]
