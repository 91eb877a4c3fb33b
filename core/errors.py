"""Errors that carry a reason a person can act on; the API maps them to 4xx responses."""

from __future__ import annotations


class KamError(Exception):
    """Base class; ``status_code`` is the HTTP status the API answers with."""

    status_code = 400

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(KamError):
    status_code = 404


class Unauthenticated(KamError):
    """No valid credentials; the reason never says whether a user or token exists."""

    status_code = 401


class InvalidInput(KamError):
    status_code = 422


class Forbidden(KamError):
    status_code = 403


class Conflict(KamError):
    """The request is fine but the resource is not in a state to answer it (e.g. a report not ready yet)."""

    status_code = 409


class PolicyFileError(KamError):
    status_code = 500


class LlmUnavailable(KamError):
    status_code = 503
