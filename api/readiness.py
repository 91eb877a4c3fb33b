"""Readiness checks: each returns ok plus a reason a person can act on."""

from __future__ import annotations

from collections.abc import Callable

from core.db.session import ping
from core.llm.embedded import is_healthy
from core.settings import Settings
from knowledge import service as knowledge_service

Check = Callable[[Settings, str | None], dict[str, object]]


def check_database(settings: Settings, _llm_base_url: str | None) -> dict[str, object]:
    try:
        ping(settings.resolved_database_url)
        return {"ok": True}
    except Exception as exc:  # any driver error means "not ready", with the reason
        return {"ok": False, "reason": str(exc)[:300]}


def check_llm(settings: Settings, llm_base_url: str | None) -> dict[str, object]:
    base_url = settings.llm_base_url or llm_base_url
    if not base_url:
        return {"ok": False, "reason": "no LLM endpoint (KAM_LLM_BASE_URL unset and embedded server not running)"}
    healthy = is_healthy(base_url)
    return {"ok": healthy, "endpoint": base_url, "model": settings.llm_model if settings.llm_base_url else "embedded",
            **({} if healthy else {"reason": "endpoint did not answer"})}


def check_vector_store(settings: Settings, _llm_base_url: str | None) -> dict[str, object]:
    try:
        store = knowledge_service.get_store(settings)
        store.ping()
        return {"ok": True, **store.counts()}
    except Exception as exc:  # a down Chroma server or a broken store: not ready, with the reason
        return {"ok": False, "reason": str(exc)[:300]}


READINESS_CHECKS: dict[str, Check] = {"database": check_database, "vector_store": check_vector_store,
                                      "llm": check_llm}


def run_readiness_checks(settings: Settings, *, llm_base_url: str | None) -> dict[str, dict[str, object]]:
    return {name: check(settings, llm_base_url) for name, check in READINESS_CHECKS.items()}
