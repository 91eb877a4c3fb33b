"""The runtime verifier (core.verify): figures traced to facts at the precision written, quotes found
verbatim with offsets, citations that exist, internal facts kept out of customer-facing text."""

from __future__ import annotations

from datetime import date

import pytest

from core.facts import Fact
from core.verify import find_numbers, locate_quote, verify_absent, verify_citations, verify_numbers, verify_quotes
from policies.results import RuleResult

CALL_OFF = Fact("call_off_rate.A-1.value", 0.62, "ratio", "policies")
PLANNED = Fact("call_off_rate.A-1.planned_qty", 69760, "number", "policies")
EXPOSURE = Fact("credit.A-1.exposure", 1234567.89, "currency", "policies")
AS_OF = Fact("as_of", date(2026, 12, 2), "date", "run")


@pytest.mark.parametrize(("text", "ok"), [
    ("Abrufquote 62 % bei 69.760 geplanten Stück.", True),       # German thousands, percent of a fraction
    ("Call-off rate 62%, 69,760 pcs planned.", True),            # English formats
    ("Die Quote ist 0,62.", True),                               # the fraction itself
    ("Call-off rate 62.0 %", True),                              # extra zero decimals are the same figure
    ("Call-off rate 62.4 %", False),                              # more precision than the fact has
    ("Call-off rate 80 %", False),                                # the local model's invented figure
    ("Exposure EUR 1.234.567,89", True),
    ("Exposure about 1,234,568 EUR", True),                       # rounded to whole euros
    ("Exposure about 1.2 million", False),                        # not a written figure we can trace
    ("Stand 02.12.2026, Konto A-00001, § 7 und Ziffer 3.1, 8D-Report", True),  # dates, ids, clauses
    ("Stand 2. Dezember 2026", True),
    ("As of December 3, 2026", False),
    ("Seit 2019 Kunde", False),                                   # a year no fact is in
    ("Im Jahr 2026", True),
])
def test_numbers_trace_to_facts(text: str, ok: bool) -> None:
    assert verify_numbers(text, [CALL_OFF, PLANNED, EXPOSURE, AS_OF]).ok is ok


def test_failures_say_what_and_why() -> None:
    result = verify_numbers("Die Quote liegt bei 80 % statt 62 %.", [CALL_OFF])
    assert [f.item for f in result.failures] == ["80"] and result.checked == 2
    assert "percentage" in result.failures[0].reason and "80" in result.feedback()


def test_points_and_negative_figures() -> None:
    growth = Fact("revenue_growth.A-1.value", -0.035, "ratio", "policies")
    headroom = Fact("price_check.P1.headroom_points", 4.25, "points", "policies")
    assert verify_numbers("Umsatz −3,5 % zum Vorjahr, 4,25 Prozentpunkte Luft", [growth, headroom]).ok
    assert verify_numbers("revenue fell 3.5 % year on year", [growth]).ok
    assert verify_numbers("4,3 Prozentpunkte", [headroom]).ok  # 4.25 rounded half-up
    assert not verify_numbers("4,4 Prozentpunkte", [headroom]).ok


def test_number_tokens_know_their_precision_and_marker() -> None:
    tokens = find_numbers("93,3 % und 1.234 Stück")
    assert [(t.text, t.marker) for t in tokens] == [("93,3", "percent"), ("1.234", "")]
    assert (93.3, 1) in tokens[0].readings and (1234.0, 0) in tokens[1].readings and (1.234, 3) in tokens[1].readings


def test_rule_results_expose_their_figures_as_facts() -> None:
    result = RuleResult("call_off_rate", "A-1", 0.62, 0.7, "breach", "2026.11", "ratio", "…",
                        {"planned_qty": 1000, "called_off_qty": 620, "from": "2025-12-01", "months": ["2026-01"]})
    facts = {f.id: f for f in result.facts()}
    assert facts["call_off_rate.A-1.value"].unit == "ratio" and facts["call_off_rate.A-1.threshold"].value == 0.7
    assert facts["call_off_rate.A-1.from"].value == date(2025, 12, 1)
    assert "call_off_rate.A-1.months" not in facts  # lists are not figures
    assert verify_numbers("620 von 1.000 abgerufen: 62 % (Ziel 70 %)", result.facts()).ok
    assert facts["call_off_rate.A-1.value"].display() == "62 %"


def test_quotes_are_located_with_offsets_despite_layout() -> None:
    source = "§ 6 Vertragsstrafe.\nBei schuldhaftem   Lieferverzug zahlt der Vertrags-\nstrafe „Lieferant“ ﬁnal."
    start, end = locate_quote("schuldhaftem Lieferverzug", source)  # type: ignore[misc]
    assert source[start:end] == "schuldhaftem   Lieferverzug"
    start, end = locate_quote('Vertragsstrafe "Lieferant" final', source)  # type: ignore[misc]
    assert source[start:end].startswith("Vertrags-\nstrafe") and source[start:end].endswith("ﬁnal")
    assert locate_quote("schuldhafter Verzug", source) is None
    assert locate_quote("   ", source) is None
    result = verify_quotes(["Lieferverzug zahlt", "erfunden"], source)
    assert result.checked == 2 and [f.item for f in result.failures] == ["erfunden"]


def test_citations_must_exist() -> None:
    result = verify_citations(["nda.pdf#§6", "nda.pdf#§99"], {"nda.pdf#§6", "nda.pdf#§7"})
    assert [f.item for f in result.failures] == ["nda.pdf#§99"]


def test_internal_figures_stay_out_of_customer_mails() -> None:
    margin = Fact("margin.A-1.value", 0.183, "ratio", "policies")
    limit = Fact("credit.A-1.kam_limit", 250000, "currency", "policies")
    mail = "Ihre Abrufquote lag bei 62 %. Unser Kreditlimit von 250.000 EUR bei Hermes ist ausgeschöpft."
    result = verify_absent(mail, [margin, limit], terms=["Hermes", "Marge"], allowed=[CALL_OFF])
    assert sorted(f.item for f in result.failures) == ["250.000", "Hermes"]
    assert verify_absent("Ihre Abrufquote lag bei 62 %.", [margin, limit], terms=["Hermes"], allowed=[CALL_OFF]).ok
