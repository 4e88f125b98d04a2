"""blocks layer of aichemist-ingest (see DESIGN.md)."""
