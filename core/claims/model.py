"""What a text is checked against (sources, their facts, judgements and courses) and what the check says."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from core.claims.words import NUMBER_WORD, NUMBER_WORDS
from core.facts import Fact
from core.i18n import Language
from core.verify import Failure, Verification, find_dates, find_numbers

Direction = Literal["higher", "lower"]
# computed: a rule result or a record code produced; note: what a person wrote about what happened (a CRM
# note, a mail, a checked brief); clause: what a contract says. Only a note supports a cause, an event or an
# intention; only a clause supports what a contract provides.
SourceKind = Literal["computed", "note", "clause"]


@dataclass(frozen=True)
class Assessment:
    """A rule's judgement as code computed it: the value, the threshold, the status and which side is good."""

    metric: str
    value: float | None
    threshold: float | None
    status: str  # ok / warn / breach / not_enough_data
    direction: Direction | None = None


@dataclass(frozen=True)
class Series:
    """A metric's monthly values, oldest first."""

    metric: str
    points: tuple[tuple[str, float], ...]  # ("2026-10", 0.62)
    direction: Direction | None = None


@dataclass(frozen=True)
class Source:
    """One thing a text may rest on, with the facts it states."""

    ref: str  # what a text cites it by: "1" for [1], "kpi:otif" in a brief
    kind: SourceKind
    account_id: str | None
    text: str  # what it says, as the model was shown it
    facts: tuple[Fact, ...] = ()
    assessments: tuple[Assessment, ...] = ()
    series: tuple[Series, ...] = ()
    names: tuple[str, ...] = ()  # people and companies it names

    @property
    def written(self) -> bool:
        """Written by a person (a note or a clause): its words can support what a sentence says."""
        return self.kind != "computed"


def text_facts(prefix: str, text: str) -> list[Fact]:
    """The figures and dates a person's text contains (a note, a clause): quoting or restating them is stating
    the source. A percentage is kept as the fraction it is ("2 %" → 0.02)."""
    facts: list[Fact] = []
    for n, token in enumerate(find_numbers(text)):
        for value, _decimals in token.readings:
            ratio = token.marker == "percent"
            facts.append(Fact(f"{prefix}.n{n}", value / 100 if ratio else value, "ratio" if ratio else "number",
                              "quoted", figure="input"))
    facts += [Fact(f"{prefix}.d{n}", d, "date", "quoted", figure="input")
              for n, (_t, _o, d) in enumerate(find_dates(text)) if d]
    facts += [Fact(f"{prefix}.w{n}", float(NUMBER_WORDS[m.group(1).lower()]), "number", "quoted", figure="input")
              for n, m in enumerate(NUMBER_WORD.finditer(text)) if m.group(1).lower() in NUMBER_WORDS]
    return facts


def source_dict(source: Source) -> dict[str, Any]:
    """A source as JSON (a snapshot of what a text was checked against)."""
    return {"ref": source.ref, "kind": source.kind, "account_id": source.account_id, "text": source.text,
            "facts": [{**dataclasses.asdict(f), "value": f.value.isoformat() if isinstance(f.value, date) else f.value}
                      for f in source.facts],
            "assessments": [dataclasses.asdict(a) for a in source.assessments],
            "series": [{"metric": s.metric, "points": [list(p) for p in s.points], "direction": s.direction}
                       for s in source.series], "names": list(source.names)}


def source_from_dict(raw: dict[str, Any]) -> Source:
    facts = tuple(Fact(**{**f, "value": date.fromisoformat(f["value"]) if f["unit"] == "date" else f["value"]})
                  for f in raw["facts"])
    return Source(raw["ref"], raw["kind"], raw["account_id"], raw["text"], facts,
                  tuple(Assessment(**a) for a in raw["assessments"]),
                  tuple(Series(s["metric"], tuple((m, v) for m, v in s["points"]), s["direction"])
                        for s in raw["series"]), tuple(raw["names"]))


@dataclass(frozen=True)
class KnownName:
    """An account or person the service knows: a sentence naming one outside the answer's sources fails."""

    name: str
    account_id: str | None


@dataclass(frozen=True)
class ClaimContext:
    sources: Sequence[Source]
    language: Language
    as_of: date
    marked: bool = True  # the text cites with markers: a sentence without one is unbound
    always: Sequence[str] = ()  # refs every sentence is bound to (the brief's counts, the account profile)
    default_account: str | None = None  # the account a sentence is about when it names none
    account_names: dict[str, tuple[str, ...]] = field(default_factory=dict)  # the sources' accounts' names
    known: Sequence[KnownName] = ()  # every account and person name of the service
    # a statement must show something its sources support (chat, briefs); a mail may also greet, ask and
    # propose without a source, and what it does claim is still checked
    statements_need_support: bool = True


@dataclass(frozen=True)
class SentenceVerdict:
    text: str
    accepted: bool
    reasons: tuple[str, ...] = ()
    cites: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "accepted": self.accepted, "reasons": list(self.reasons)}


@dataclass
class ClaimReport:
    sentences: list[SentenceVerdict]

    @property
    def accepted(self) -> bool:
        return all(s.accepted for s in self.sentences)

    def verification(self) -> Verification:
        """The rejected sentences and their reasons as verifier failures (for the repair prompt), with every
        sentence's verdict for the run record."""
        failures = [Failure("claim", s.text[:120], "; ".join(s.reasons)) for s in self.sentences if not s.accepted]
        return Verification(failures, checked=len(self.sentences), sentences=[s.as_dict() for s in self.sentences])
