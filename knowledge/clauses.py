"""The contract clauses behind a rule finding, for the agents that cite them (briefs, escalation mails)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# A finding → the words its clauses use (German and English contracts).
CLAUSE_QUERIES = {
    "call_off_rate": "Abrufplan Abrufmengen Mindestabnahme call-off plan minimum quantities",
    "otif": "Liefertermin Lieferverzug delivery dates late delivery",
    "account_margin": "Preisanpassung Preisgleitklausel price adjustment",
    "receivables": "Zahlungsbedingungen Zahlungsziel payment terms",
    "dunning": "Zahlungsbedingungen Zahlungsziel payment terms",
    "credit_utilisation": "Zahlungsbedingungen Sicherheiten payment terms security",
    "reorder": "Sicherheitsbestand Abrufe safety stock call-offs",
}
DEFAULT_CLAUSE_QUERY = "Laufzeit Kündigung Preisanpassung term termination price adjustment"
CLAUSES = 3


class ClauseRef(BaseModel):
    chunk_id: str
    title: str
    clause: str | None
    text: str

    @property
    def cite(self) -> str:
        return f"chunk:{self.chunk_id}"


def find_clauses(retriever: Any, scope: Any, account_id: str, finding: str | None, *, mode: str = "hybrid",
                 k: int = CLAUSES) -> list[ClauseRef]:
    """The account's contract clauses about the finding (a rule name), within the scope; none when the
    knowledge store is empty, not set up or unavailable (no agent depends on it)."""
    query = CLAUSE_QUERIES.get(finding or "", DEFAULT_CLAUSE_QUERY)
    try:
        hits = retriever.search(query, scope, account_id=account_id, doc_types=["contract"], k=k, mode=mode)
    except Exception:
        return []
    return [ClauseRef(chunk_id=h.chunk.chunk_id, title=h.chunk.title, clause=h.chunk.clause, text=h.chunk.text[:500])
            for h in hits]


def clauses_for(settings: Any, principal: Any, account_id: str, finding: str | None, *,
                mode: str = "hybrid") -> list[ClauseRef]:
    """:func:`find_clauses` with the configured store and the principal's scope."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever

    try:
        retriever = get_retriever(settings)
    except Exception:
        return []
    return find_clauses(retriever, AccessScope.for_principal(principal), account_id, finding, mode=mode)
