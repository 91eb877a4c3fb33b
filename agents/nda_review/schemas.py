"""The review's report: what the API, the CLI and the HTML page show."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.i18n import Language
from policies.nda import Finding, Verdict

NliLabel = Literal["Entailment", "Contradiction", "NotMentioned"]


class NliItem(BaseModel):
    label: NliLabel
    hypothesis: str
    evidence: list[str] = Field(default_factory=list)  # verbatim sentences of the NDA
    source: Literal["facts", "cues", "model", "llm", "fallback"]


class LlmUse(BaseModel):
    model: str | None
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


class NdaReport(BaseModel):
    review_id: str
    file_name: str
    account_id: str | None
    language: Language
    source_format: str
    pages: int
    policy_version: str
    verdict: Verdict
    # "provisional" when the verdict rests on readings no check confirmed (the rules in ``unverified``)
    verdict_basis: Literal["verified", "provisional"] = "verified"
    unverified: list[str] = Field(default_factory=list)
    findings: list[Finding]
    nli: dict[str, NliItem]
    uncertain: list[str]  # what a person should check: rule ids and hypotheses the reader could not confirm
    llm: LlmUse
    wall_s: float
    reviewed_at: datetime
