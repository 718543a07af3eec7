"""Provides the headless core: loading, schema, case store, SQL and export. Never imports Textual."""
