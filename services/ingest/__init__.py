"""Ingestion: connectors that turn git, CI, logs, metrics and traces into one event schema."""
