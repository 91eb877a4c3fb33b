"""What a chat turn is made of: the sources a tool found (each citable), the answer and its provenance."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from core import claims
from core.facts import Fact
from core.i18n import Language

SourceKind = Literal["rule", "chunk", "interaction", "brief", "draft", "nda_review", "record"]
AnswerSource = Literal["llm", "template", "fallback", "refusal", "clarify"]


class Citation(BaseModel):
    """One numbered source of an answer: what it is, where it comes from, and what it says (for the reader who
    clicks the marker)."""

    n: int
    kind: SourceKind
    ref: str  # "rule:otif:A-00001", "chunk:<id>", "interaction:<id>", "draft:<id>", "nda_review:<id>"
    label: str
    account_id: str | None = None
    detail: str = ""  # the rule's formula with figures, the clause text, the note


class Evidence(BaseModel):
    """A tool's finding as one sentence in each language, with the facts it states (for the verifier) and the
    source it cites. The sentences are written by code; they are the template answer and the model's input."""

    de: str
    en: str
    kind: SourceKind
    ref: str
    label: str
    account_id: str | None = None
    detail: str = ""
    facts: list[dict[str, Any]] = Field(default_factory=list)  # core.facts.Fact as id/value/unit/source
    # what an answer resting on this source must state (fact ids, or a name such as an invoice id): the
    # model may leave out detail, not the point
    key: list[str] = Field(default_factory=list)
    # what the claim checker compares a sentence with: the rule's judgement, a monthly course, names in it
    assessments: list[dict[str, Any]] = Field(default_factory=list)  # core.claims.Assessment as a dict
    series: list[dict[str, Any]] = Field(default_factory=list)  # core.claims.Series as a dict
    names: list[str] = Field(default_factory=list)

    def text(self, language: Language) -> str:
        return self.de if language == "de" else self.en

    def fact_list(self) -> list[Fact]:
        return [fact_from_dict(f) for f in self.facts]

    def claim_source(self, ref: str, language: Language) -> claims.Source:
        """This source as the claim checker reads it (a note, mail, clause or brief supports content)."""
        return claims.Source(
            ref=ref, kind=SOURCE_KINDS.get(self.kind, "computed"), account_id=self.account_id,
            text=f"{self.text(language)} ({self.detail})" if self.kind in TEXT_KINDS and " ".join(
                self.detail.split()) not in self.text(language) else self.text(language),
            facts=tuple(self.fact_list()), assessments=tuple(claims.Assessment(**a) for a in self.assessments),
            series=tuple(claims.Series(a["metric"], tuple((m, v) for m, v in a["points"]), a.get("direction"))
                         for a in self.series), names=tuple(self.names))


# what a person wrote supports content: a note or mail what happened, a contract clause what was agreed
SOURCE_KINDS: dict[str, claims.SourceKind] = {"chunk": "clause", "interaction": "note", "brief": "note"}
TEXT_KINDS = tuple(SOURCE_KINDS)


def fact_dict(fact: Fact) -> dict[str, Any]:
    value = fact.value.isoformat() if isinstance(fact.value, date) else fact.value
    return {"id": fact.id, "value": value, "unit": fact.unit, "source": fact.source, "metric": fact.metric,
            "figure": fact.figure, "period": fact.period, "subject": fact.subject}


def fact_from_dict(raw: dict[str, Any]) -> Fact:
    value = raw["value"]
    if raw["unit"] == "date" and isinstance(value, str):
        value = date.fromisoformat(value)
    return Fact(raw["id"], value, raw["unit"], raw["source"], raw.get("metric", ""), raw.get("figure", "value"),
                raw.get("period", ""), raw.get("subject", ""))


class ToolCall(BaseModel):
    tool: str
    account_id: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)


class ToolStep(BaseModel):
    """What one tool did in a turn (streamed as a step and kept with the answer)."""

    tool: str
    account_id: str | None = None
    args: dict[str, Any] = Field(default_factory=dict)
    evidence: int = 0  # how many sources it found
    refused: str | None = None  # why the tool gave nothing (access, missing data)


class Answer(BaseModel):
    text: str
    language: Language
    source: AnswerSource  # llm: the model's checked text; template/fallback: code's; refusal/clarify: code's
    citations: list[Citation] = Field(default_factory=list)
    steps: list[ToolStep] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)  # why the model's text was not used
    account_id: str | None = None
    # the run record: what the model wrote in each round and each sentence's verdict (never shown as the answer)
    check_record: list[dict[str, Any]] = Field(default_factory=list)


class Turn(BaseModel):
    question: str
    answer: Answer
    asked_at: datetime
