"""What a chat turn is made of: the sources a tool found (each citable), the answer and its provenance."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Language = Literal["de", "en"]
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

    def text(self, language: Language) -> str:
        return self.de if language == "de" else self.en


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


class Turn(BaseModel):
    question: str
    answer: Answer
    asked_at: datetime
