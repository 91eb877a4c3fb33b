"""An account's facts the way the agents gather them, numbered as sources a text may cite: what ``kam verify``
and ``POST /verify`` check a text against.

The brief's facts (every KPI with its judgement and monthly course, the next meeting, the latest notes, open
escalations, orders, opportunities, re-orders, documents), the chat tools' credit position, open invoices and
notes, and the contract clauses behind the account's breaches. Everything runs as the caller's principal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy.orm import Session

from agents.account_brief import sources as brief_sources
from agents.account_brief.facts import gather
from agents.chat.tools import ToolContext, run_tool
from core import access, claims
from core.db.repository import account_names, known_names
from core.errors import KamError, NotFound
from core.facts import Fact
from core.i18n import Language
from core.settings import Settings
from knowledge.clauses import CLAUSE_QUERIES, clauses_for

# the brief's sources that the chat tools state in more detail are left out (one source per thing)
REPLACED = ("kpi:credit_utilisation",)
CHAT_TOOLS = ("credit", "receivables", "notes")


@dataclass(frozen=True)
class AccountSources:
    sources: list[claims.Source]  # numbered from 1 in the order shown
    account_names: dict[str, tuple[str, ...]]
    known: list[claims.KnownName]
    account_ids: list[str]

    def context(self, language: Language, as_of: date, *, marked: bool) -> claims.ClaimContext:
        """Text with markers cites these numbers; text without is bound by what each sentence names."""
        profiles = tuple(s.ref for s in self.sources if s.facts and s.facts[0].id == "as_of")
        return claims.ClaimContext(sources=self.sources, language=language, as_of=as_of, marked=marked,
                                   always=profiles,
                                   default_account=self.account_ids[0] if len(self.account_ids) == 1 else None,
                                   account_names=self.account_names, known=self.known)


def account_sources(session: Session, settings: Settings, principal: access.Principal, account_ids: Sequence[str],
                    as_of: date, language: Language) -> AccountSources:
    """The sources of the accounts, numbered; NotFound for an account the principal may not see (like one
    that does not exist), Forbidden when the role may not read finance or rule data."""
    access.require(principal, "finance")
    access.require(principal, "rules")
    for account_id in account_ids:
        access.require_account(principal, account_id)
    facts = gather(session, as_of=as_of, account_ids=list(account_ids), data_dir=settings.data_dir)
    collected: list[claims.Source] = []
    for account_id in account_ids:
        if account_id not in facts:
            raise NotFound(f"account {account_id!r} not found")
        f = facts[account_id]
        breached: list[str | None] = [k.rule for k in f.kpis if k.status in ("breach", "warn")
                                      and k.rule in CLAUSE_QUERIES]
        clauses = {c.chunk_id: c for rule in breached[:3] or [None]
                   for c in clauses_for(settings, principal, account_id, rule, mode="bm25")}
        brief = [s for s in brief_sources.claim_sources(f, language, list(clauses.values()))
                 if s.ref not in REPLACED and not s.ref.startswith("interaction:")]
        ctx = ToolContext(session, principal, as_of, settings, "")
        counts: dict[str, int] = {}
        for tool in CHAT_TOOLS:
            try:
                found = run_tool(tool, ctx, account_id, {})
            except KamError:
                continue  # a tool without data for this account (no open invoice) adds nothing
            brief += [e.claim_source("", language) for e in found]
            counts[tool] = len(found)
        profile = brief[0]  # the account itself: what every sentence may state, with the open invoices counted
        brief[0] = replace(profile, facts=(*profile.facts, Fact(f"count:invoices:{account_id}",
                                                                 counts.get("receivables", 0), "count", "crm",
                                                                 "invoices")))
        collected += brief
    numbered = [replace(s, ref=str(n)) for n, s in enumerate(collected, start=1)]
    known = [claims.KnownName(name, account) for name, account in known_names(session)]
    return AccountSources(numbered, account_names(session, account_ids), known, list(account_ids))


def listing(found: AccountSources) -> str:
    """The sources as ``[n] text`` lines, as a reader (or a model) sees them."""
    return "\n".join(f"[{s.ref}] {s.text}" for s in found.sources)


@dataclass(frozen=True)
class TextCheck:
    report: claims.ClaimReport
    found: AccountSources
    language: Language
    marked: bool


def check_account_text(session: Session, settings: Settings, principal: access.Principal,
                       account_ids: Sequence[str], as_of: date, text: str, language: Language | None = None
                       ) -> TextCheck:
    """``text`` checked sentence by sentence against the accounts' sources: with ``[n]`` markers each
    sentence is bound to what it cites, without them to what it names."""
    from agents.chat.resolve import detect_language

    language = language or detect_language(text)
    found = account_sources(session, settings, principal, account_ids, as_of, language)
    marked = bool(claims.MARKER.search(text))
    return TextCheck(claims.check_text(text, found.context(language, as_of, marked=marked)), found, language, marked)
