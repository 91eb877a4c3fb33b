"""Which suite evaluates which agent, and how each is built."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from evals.llm_suites import CassetteMode, NdaFactsSuite
from evals.suites import ContractNliSuite, RetrievalSuite, Suite

DETERMINISTIC = ("retrieval", "contractnli")
LLM = ("nda_facts",)
PLANNED = {
    "nda_review": "the NDA review agent",
    "account_brief": "the account brief agent",
    "escalation_drafter": "the escalation drafter",
    "chat": "the chat endpoint",
}


def build_suite(agent: str, work_dir: Path, settings: Settings, cassette: CassetteMode) -> Suite:
    if agent == "retrieval":
        return RetrievalSuite(work_dir)
    if agent == "contractnli":
        return ContractNliSuite(work_dir)
    if agent == "nda_facts":
        return NdaFactsSuite(work_dir, settings=settings, cassette=cassette)
    raise KeyError(agent)
