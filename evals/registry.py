"""Which suite evaluates which agent, and how each is built."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from evals.brief_suites import AccountBriefSuite
from evals.chat_kam_suites import ChatKamSuite
from evals.chat_suites import ChatSuite
from evals.claims_suites import ClaimsSuite
from evals.escalation_suites import EscalationDrafterSuite
from evals.llm_suites import CassetteMode, NdaFactsSuite
from evals.nda_suites import ContractNliClassifierSuite, NdaReviewSuite
from evals.suites import RetrievalSuite, Suite

# --llm optional
DETERMINISTIC = ("retrieval", "contractnli", "nda_review", "account_brief", "escalation_drafter", "chat", "chat_kam",
                 "claims")
LLM = ("nda_facts",)
PLANNED: dict[str, str] = {}
# What --llm means per agent: how much the model reads (NDA) or writes (mails); "off" is always deterministic.
LLM_MODES: dict[str, tuple[str, ...]] = {"escalation_drafter": ("off", "sentence", "mail"), "chat": ("off", "all"),
                                          "chat_kam": ("off", "all")}
DEFAULT_LLM_MODES = ("off", "uncertain", "all")


def build_suite(agent: str, work_dir: Path, settings: Settings, cassette: CassetteMode, llm_mode: str = "off") -> Suite:
    if agent == "retrieval":
        return RetrievalSuite(work_dir)
    if agent == "contractnli":
        return ContractNliClassifierSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "nda_review":
        return NdaReviewSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "account_brief":
        return AccountBriefSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "escalation_drafter":
        return EscalationDrafterSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "chat":
        return ChatSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "chat_kam":
        return ChatKamSuite(work_dir, settings=settings, llm_mode=llm_mode)
    if agent == "claims":
        return ClaimsSuite(work_dir)
    if agent == "nda_facts":
        return NdaFactsSuite(work_dir, settings=settings, cassette=cassette)
    raise KeyError(agent)


def baseline_name(agent: str, llm_mode: str) -> str:
    """Each way of running a suite has its own committed baseline (``contractnli.uncertain.json``)."""
    return agent if llm_mode == "off" else f"{agent}.{llm_mode}"
