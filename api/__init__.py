"""Interfaces: the FastAPI service and the ``kam`` CLI. Top of the import graph."""
