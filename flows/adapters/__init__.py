"""Adapters between the flows and Prefect's services."""
