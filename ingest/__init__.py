"""aichemist-ingest: the Prefect-free domain (models, sources, validators,
processors, chunking, store)."""

__version__ = "0.1.0"
