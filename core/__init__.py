"""Shared core: settings, logging, errors, the CRM database and the LLM gateway.

Everything else imports from here; nothing here imports from agents, knowledge, policies or api.
"""
