"""Deterministic rule modules: the source of truth for every number the agents speak. No LLM here."""
