"""The review as a readable HTML page, in the NDA's language."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from agents.nda_review.schemas import NdaReport
from policies.labels import NDA_RULES

TEXTS: dict[str, dict[str, Any]] = {
    "de": {"title": "NDA-Prüfung", "account": "Kunde", "pages": "Seiten", "policy": "Richtlinie",
           "llm": "KI-Aufrufe", "verdict": "Ergebnis", "check": "Bitte prüfen (nicht sicher erkannt)",
           "provisional": "vorläufig: beruht auf nicht bestätigten Lesungen von",
           "verdicts": {"accept": "annehmen", "negotiate": "nachverhandeln", "escalate": "an Legal eskalieren"},
           "severities": {"high": "Hoch", "medium": "Mittel", "low": "Niedrig"},
           "statuses": {"deviation": "Abweichung", "not_found": "nicht gefunden", "compliant": "in Ordnung"},
           "page": "Seite", "unsure": "(unsicher)", "proposal": "Vorschlag", "compliant": "In Ordnung",
           "nli": "ContractNLI-Aussagen", "hypothesis": "Aussage", "label": "Ergebnis", "evidence": "Beleg",
           "rules": {rule: pair[0] for rule, pair in NDA_RULES.items()}},
    "en": {"title": "NDA review", "account": "Account", "pages": "pages", "policy": "policy", "llm": "LLM calls",
           "verdict": "Verdict", "check": "Please check (not recognised with certainty)",
           "provisional": "provisional: rests on unconfirmed readings of",
           "verdicts": {"accept": "accept", "negotiate": "negotiate", "escalate": "escalate to legal"},
           "severities": {"high": "High", "medium": "Medium", "low": "Low"},
           "statuses": {"deviation": "deviation", "not_found": "not found", "compliant": "compliant"},
           "page": "page", "unsure": "(uncertain)", "proposal": "Proposed wording", "compliant": "Compliant",
           "nli": "ContractNLI statements", "hypothesis": "Statement", "label": "Label", "evidence": "Evidence",
           "rules": {rule: pair[1] for rule, pair in NDA_RULES.items()}},
}


@lru_cache(maxsize=1)
def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                       autoescape=select_autoescape(["html", "j2"]))


def render_html(report: NdaReport) -> str:
    return _environment().get_template("report.html.j2").render(report=report, findings=report.findings,
                                                                t=TEXTS[report.language])
