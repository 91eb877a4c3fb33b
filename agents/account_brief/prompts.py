"""The one LLM step of a brief: a short situation summary from facts code computed. The prefix is fixed
(the server's prompt cache reuses it across accounts); the facts follow."""

from __future__ import annotations

from agents.account_brief import texts
from agents.account_brief.schemas import BriefFacts
from core.i18n import Language, day

PROMPT_VERSION = "brief-2026.12.1"

SYSTEM = (
    "You write the situation summary of a pre-meeting brief for a key account manager of a components "
    "supplier. Use only the facts given. Write every figure exactly as it is given. After each sentence, list "
    "the ids of the facts it uses. Answer with JSON: {\"sentences\": [{\"text\": \"...\", \"cites\": [\"id\", ...]}]}."
)
INSTRUCTION = {
    "de": "Schreiben Sie 2 bis 3 kurze Sätze auf Deutsch, sachlich, ohne Anrede.",
    "en": "Write 2 to 3 short sentences in English, factual, without a greeting.",
}
INTERACTIONS_IN_PROMPT = 3


def facts_block(f: BriefFacts, language: Language) -> str:
    """The facts the model may use, one per line with its id; figures formatted as the reader reads them."""
    lines = [f"account: {f.name}, segment {f.segment}"]
    for k in f.kpis:
        if k.status in ("breach", "warn") or k.rule in ("call_off_rate", "otif"):
            target = f", target {texts.shown(k, k.threshold, language)}" if k.threshold is not None else ""
            lines.append(f"[{k.cite}] {texts.label(k.rule, language)} = {texts.shown(k, k.value, language)}{target} "
                         f"({k.status})")
    if f.next_meeting:
        lines.append(f"[meeting:{f.next_meeting.id}] next meeting {day(f.next_meeting.date, language)}: "
                     f"{f.next_meeting.title}")
    lines += [f"[escalation:{e.id}] open escalation since {day(e.opened_on, language)}: {e.cause}"
              for e in f.escalations]
    lines += [f"[interaction:{i.id}] {day(i.date, language)} {i.type}: {i.note[:200]}"
              for i in f.interactions[:INTERACTIONS_IN_PROMPT]]
    lines += [f"[opportunity:{o.id}] opportunity: {o.title} ({o.status})" for o in f.opportunities[:2]]
    return "\n".join(lines)


def human(f: BriefFacts, language: Language) -> str:
    return f"Facts:\n{facts_block(f, language)}\n\n{INSTRUCTION[language]}"
