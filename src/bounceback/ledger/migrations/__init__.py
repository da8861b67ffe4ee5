"""Alembic migrations for the ledger (``bounceback db upgrade``)."""
