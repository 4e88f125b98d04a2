"""tasks layer of aichemist-ingest (see docs/architecture.md)."""
