"""Per rule: the answer the LLM gives, how it becomes facts, and what code checks about it.

The model's answer is reduced to the same facts the patterns produce; wherever the quoted sentence can be
read by the patterns, the fact comes from the sentence (code computes), not from the model's words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from agents.nda_review import extractors
from agents.nda_review.text import NdaText, durations
from policies.nda import (
    AssignmentFacts,
    CiFacts,
    Evidence,
    ExclusionFacts,
    IpFacts,
    LawFacts,
    MutualityFacts,
    PenaltyFacts,
    RecipientFacts,
    ReturnFacts,
    RuleFacts,
    SolicitationFacts,
    SurvivalFacts,
    TermFacts,
    VenueFacts,
)

Quote = Field("", max_length=600, description="the exact sentence from the excerpts")


class MutualityAnswer(BaseModel):
    answer: Literal["both", "only_us", "only_other_party", "unclear"]
    quote: str = Quote


class TermAnswer(BaseModel):
    kind: Literal["fixed", "indefinite", "not_stated"]
    years: int | None = Field(None, ge=0, le=99)
    quote: str = Quote


class SurvivalAnswer(BaseModel):
    kind: Literal["years", "perpetual", "not_stated"]
    years: int | None = Field(None, ge=0, le=99)
    quote: str = Quote


class LawAnswer(BaseModel):
    law: str = Field(max_length=40)
    quote: str = Quote


class VenueAnswer(BaseModel):
    kind: Literal["courts", "arbitration", "not_stated"]
    place: str | None = Field(None, max_length=40)
    institution: str | None = Field(None, max_length=40)
    quote: str = Quote


class CiAnswer(BaseModel):
    answer: Literal["marked_only", "everything", "not_stated"]
    quote: str = Quote


class ExclusionAnswer(BaseModel):
    present: list[Literal["public", "already_known", "independently_developed", "third_party",
                          "required_by_law"]] = Field(default_factory=list, max_length=5)
    quote: str = Quote


class RecipientAnswer(BaseModel):
    allowed: list[Literal["employees", "affiliates", "advisers", "suppliers_subcontractors"]] = Field(
        default_factory=list, max_length=4)
    quote: str = Quote


class ReturnAnswer(BaseModel):
    answer: Literal["with_retention_exception", "without_exception", "no_clause"]
    quote: str = Quote


class YesNoAnswer(BaseModel):
    answer: Literal["yes", "no"]
    quote: str = Quote


class SolicitationAnswer(BaseModel):
    present: Literal["yes", "no"]
    months: int | None = Field(None, ge=0, le=120)
    scope: Literal["directly_involved", "all"] | None = None
    quote: str = Quote


class AssignmentAnswer(BaseModel):
    answer: Literal["consent_except_affiliates", "consent_always", "free", "not_stated"]
    quote: str = Quote


LAW_NAMES = {"germany": "DE", "german": "DE", "deutschland": "DE", "switzerland": "CH", "swiss": "CH",
             "austria": "AT", "austrian": "AT", "france": "FR", "french": "FR", "england": "GB", "england and wales":
             "GB", "english": "GB", "united kingdom": "GB", "uk": "GB", "new york": "US-NY", "delaware": "US-DE",
             "california": "US-CA", "netherlands": "NL", "italy": "IT", "spain": "ES", "poland": "PL",
             "czech republic": "CZ", "sweden": "SE", "united states": "US", "usa": "US"}
ABSENT_WORDS = ("not_stated", "no", "no_clause", "unclear")


def _read(rule: str, quote: str) -> RuleFacts | None:
    """The patterns' reading of the quoted sentence alone, where they can read this rule at all."""
    doc = NdaText(quote)
    readers: dict[str, Callable[[NdaText], RuleFacts]] = {
        "term": extractors.term, "survival": extractors.survival, "governing_law": extractors.governing_law,
        "jurisdiction": extractors.jurisdiction}
    reader = readers.get(rule)
    if reader is None:
        return None
    facts = reader(doc)
    return facts if facts.found and not facts.uncertain else None


def to_facts(rule: str, answer: Any, evidence: Evidence | None) -> RuleFacts:
    """The model's answer as the rule's facts: read from the quoted sentence wherever the patterns can read
    it (code computes), else from the answer's fields."""
    read = read_quote(rule, answer, evidence)
    return read if read is not None else stated_facts(rule, answer, evidence)


def read_quote(rule: str, answer: Any, evidence: Evidence | None) -> RuleFacts | None:
    read = _read(rule, answer.quote) if evidence else None
    return read.model_copy(update={"evidence": [evidence], "source": "llm"}) if read is not None else None


def stated_facts(rule: str, answer: Any, evidence: Evidence | None) -> RuleFacts:
    """What the answer's fields say, whatever its quote says."""
    common: dict[str, Any] = {"evidence": [evidence] if evidence else [], "source": "llm"}
    if rule == "mutuality":
        side = {"both": "both", "only_us": "us", "only_other_party": "them"}.get(answer.answer)
        return MutualityFacts(found=side is not None, discloser=side, **common)
    if rule == "term":
        return TermFacts(found=answer.kind != "not_stated", years=answer.years, indefinite=answer.kind == "indefinite",
                         termination_right=None, **common)
    if rule == "survival":
        return SurvivalFacts(found=answer.kind != "not_stated", years=answer.years,
                             perpetual=answer.kind == "perpetual", **common)
    if rule == "governing_law":
        code = law_code(answer.law)
        return LawFacts(found=code is not None, law=code, **common)
    if rule == "jurisdiction":
        country = extractors._country(answer.place or "")
        return VenueFacts(found=answer.kind != "not_stated", kind=None if answer.kind == "not_stated" else answer.kind,
                          place=answer.place, country=country, institution=(answer.institution or None), **common)
    if rule == "ci_definition":
        return CiFacts(found=answer.answer != "not_stated", marking_required=answer.answer == "marked_only",
                       all_information=answer.answer == "everything", **common)
    if rule == "exclusions":
        return ExclusionFacts(found=bool(answer.present), present=list(answer.present), **common)
    if rule == "permitted_recipients":
        return RecipientFacts(found=bool(answer.allowed), allowed=list(answer.allowed), **common)
    if rule == "return_destroy":
        return ReturnFacts(found=answer.answer != "no_clause",
                           retention_carve_out=answer.answer == "with_retention_exception", **common)
    if rule == "non_solicitation":
        return SolicitationFacts(found=answer.present == "yes", months=answer.months, scope=answer.scope, **common)
    if rule == "penalty":
        return PenaltyFacts(found=answer.answer == "yes", **common)
    if rule == "ip":
        return IpFacts(found=answer.answer == "yes", licence=answer.answer == "yes", **common)
    if rule == "assignment":
        if answer.answer == "not_stated":
            return AssignmentFacts(**common)
        return AssignmentFacts(found=True, consent_required=answer.answer != "free",
                               affiliate_exception=answer.answer == "consent_except_affiliates", **common)
    return RuleFacts(found=answer.answer == "yes", **common)  # residuals, non_compete, liability


def key(rule: str, facts: RuleFacts) -> tuple[Any, ...]:
    """The values a pattern reading and a model reading of one rule must agree on."""
    f: Any = facts
    keys: dict[str, Callable[[Any], tuple[Any, ...]]] = {
        "mutuality": lambda x: (x.discloser,),
        "term": lambda x: (x.found, x.indefinite, x.years),
        "survival": lambda x: (x.found, x.perpetual, x.years),
        "governing_law": lambda x: (x.law,),
        "jurisdiction": lambda x: (x.kind, x.country),
        "ci_definition": lambda x: (x.found, x.all_information),
        "exclusions": lambda x: tuple(sorted(x.present)),
        "permitted_recipients": lambda x: tuple(sorted(x.allowed)),
        "return_destroy": lambda x: (x.found, x.retention_carve_out),
        "non_solicitation": lambda x: (x.found, x.months, x.scope),
        "assignment": lambda x: (x.found, x.consent_required, x.affiliate_exception),
    }
    return keys.get(rule, lambda x: (x.found,))(f)


def describe(rule: str, facts: RuleFacts) -> str:
    """A pattern reading in words, for the repair prompt ("the patterns read: discloser=them")."""
    names = ("discloser", "years", "indefinite", "perpetual", "law", "kind", "country", "all_information",
             "present", "allowed", "retention_carve_out", "months", "scope", "consent_required", "affiliate_exception")
    shown = {n: getattr(facts, n) for n in names if hasattr(facts, n)}
    return ", ".join(f"{k}={v}" for k, v in shown.items()) if facts.found else "no such clause"


SCHEMAS: dict[str, type[BaseModel]] = {
    "mutuality": MutualityAnswer, "term": TermAnswer, "survival": SurvivalAnswer, "governing_law": LawAnswer,
    "jurisdiction": VenueAnswer, "ci_definition": CiAnswer, "exclusions": ExclusionAnswer,
    "permitted_recipients": RecipientAnswer, "return_destroy": ReturnAnswer, "residuals": YesNoAnswer,
    "non_solicitation": SolicitationAnswer, "non_compete": YesNoAnswer, "penalty": YesNoAnswer, "ip": YesNoAnswer,
    "liability": YesNoAnswer, "assignment": AssignmentAnswer,
}


@dataclass(frozen=True)
class Question:
    rule: str
    clause_starts: tuple[int, ...]  # the clauses the model sees (their start offsets)


# What the quoted sentence must say for each value an answer may give: the model picks values, code checks that
# its own quote states them (a clause naming Norwegian law cannot support "Germany").
X = extractors
EXCHANGE = X.rx(r"austausch|ausgetauscht|auszutauschen|tauschen|exchang")  # an exchange runs both ways
INVOLVED = X.rx(r"unmittelbar[^.;]{0,60}beteiligt|directly involved|who (?:was|were|are|is) (?:directly )?involved|"
                r"worked on|beteiligt|involved")
TOPIC: dict[str, re.Pattern[str]] = {
    "mutuality": X.rx("|".join((X.MUTUAL.pattern, X.ONE_WAY.pattern, EXCHANGE.pattern,
                                 r"disclos|offenleg|Disclosing|Recipient|Empfänger|übermittel|weitergeb|provid"))),
    "term": X.rx(X.TERM_CONTEXT.pattern + "|" + X.INDEFINITE.pattern + r"|Jahr|year|Monat|month"),
    "survival": X.rx(X.SURVIVAL_CONTEXT.pattern + "|" + X.PERPETUAL.pattern),
    "governing_law": X.rx(X.LAW_CHOICE.pattern + r"|\bRecht\b|\blaws?\b"),
    "jurisdiction": X.rx(X.JURISDICTION_WORDS.pattern + "|" + X.ARBITRATION.pattern),
    "ci_definition": X.rx(r"vertraulich|confidential"),
    "exclusions": X.rx(X.EXCLUSION_INTRO.pattern + "|" + "|".join(p.pattern for p in X.EXCLUSION_KINDS.values())),
    "permitted_recipients": X.rx(X.DISCLOSE_TO.pattern + "|" + "|".join(
        p.pattern for p in X.RECIPIENT_KINDS.values())),
    "return_destroy": X.rx(X.RETURN.pattern + "|" + X.RETENTION.pattern),
    "residuals": X.RESIDUALS, "non_solicitation": X.SOLICIT, "non_compete": X.NON_COMPETE, "penalty": X.PENALTY,
    "ip": X.rx("|".join(p.pattern for p in (X.LICENCE, X.GRANT, X.FEEDBACK, X.OWNERSHIP))),
    "liability": X.rx(X.INDEMNITY.pattern + r"|haft|liab"),
    "assignment": X.ASSIGNMENT,
}
VALUE_CUES: dict[tuple[str, str], re.Pattern[str]] = {
    ("mutuality", "both"): X.rx(X.MUTUAL.pattern + "|" + EXCHANGE.pattern),
    ("term", "indefinite"): X.INDEFINITE, ("survival", "perpetual"): X.PERPETUAL,
    ("jurisdiction", "arbitration"): X.ARBITRATION, ("ci_definition", "marked_only"): X.MARKED,
    ("ci_definition", "everything"): X.ALL_INFORMATION, ("return_destroy", "with_retention_exception"): X.RETENTION,
    ("assignment", "consent_except_affiliates"): X.AFFILIATE, ("assignment", "consent_always"): X.CONSENT,
    ("assignment", "free"): X.FREE_ASSIGNMENT,
    **{("exclusions", kind): pattern for kind, pattern in X.EXCLUSION_KINDS.items()},
    **{("permitted_recipients", kind): pattern for kind, pattern in X.RECIPIENT_KINDS.items()},
}
LAW_CODES = dict(X.LAWS)
INSTITUTIONS = dict(X.INSTITUTIONS)


def _stem(name: str) -> str:
    return re.sub(r"\W+", " ", name).strip().lower()[:5]


def law_code(name: str) -> str | None:
    """The policy's code for a named law; an unknown law keeps its name (and so is never an accepted one)."""
    cleaned = name.strip()
    if not cleaned or cleaned.lower() in ABSENT_WORDS or cleaned.lower() in ("none", "unknown", "not stated"):
        return None
    return LAW_NAMES.get(cleaned.lower(), cleaned)


def unsupported(rule: str, answer: Any) -> list[str]:
    """Each value of the answer its own quote does not state. Absence needs no quote, but a quote given for
    it must be about the rule."""
    quote = answer.quote.strip()
    if not quote:
        return []
    if not TOPIC[rule].search(quote):
        return ["the quoted sentence is not about this rule"]
    reasons = []
    values: list[str] = []
    for name in ("answer", "kind", "present", "allowed"):
        value = getattr(answer, name, None)
        values += value if isinstance(value, list) else [value] if isinstance(value, str) else []
    for value in values:
        cue = VALUE_CUES.get((rule, value))
        if cue is not None and not cue.search(quote):
            reasons.append(f"the quoted sentence does not say {value!r}")
    if rule == "governing_law" and (code := law_code(answer.law)) is not None:
        named = LAW_CODES[code].search(quote) if code in LAW_CODES else _stem(code) in quote.lower()
        if not named:
            reasons.append(f"the quoted sentence does not name {answer.law!r} law")
    if rule == "jurisdiction":
        for name in (answer.place, answer.institution):
            institution = INSTITUTIONS.get((name or "").strip())  # "DIS" may be written out in full
            if name and not (institution.search(quote) if institution else name.strip().lower() in quote.lower()):
                reasons.append(f"the quoted sentence does not name {name!r}")
    if rule == "non_solicitation" and answer.present == "yes":
        if answer.months is not None and float(answer.months) not in {round(y * 12, 1) for y in years_in(quote)}:
            reasons.append(f"the quoted sentence does not state {answer.months} months")
        if answer.scope is not None and (answer.scope == "directly_involved") != bool(INVOLVED.search(quote)):
            reasons.append(f"the quoted sentence does not limit the ban as {answer.scope!r} says")
    return reasons


def answered_absent(answer: Any) -> bool:
    values = [getattr(answer, name) for name in ("answer", "kind", "present") if hasattr(answer, name)]
    return bool(values) and all(v in ABSENT_WORDS or v == [] for v in values)


def years_in(quote: str) -> set[float]:
    return {round(d.years, 2) for d in durations(quote) if d.unit in ("years", "months")}
