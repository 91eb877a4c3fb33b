"""The runtime verifier (core.verify): figures traced to facts at the precision written, quotes found
verbatim with offsets, citations that exist, internal facts kept out of customer-facing text."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
    assert (93.3, 1) in tokens[0].readings and tokens[1].readings == ((1234.0, 0),)  # the text's decimal mark is ","


def test_rule_results_expose_their_figures_as_facts() -> None:
    result = RuleResult("call_off_rate", "A-1", 0.62, 0.7, "breach", "2026.11", "ratio", "…",
                        {"planned_qty": 1000, "called_off_qty": 620, "from": "2025-12-01", "months": ["2026-01"]})
    facts = {f.id: f for f in result.facts()}
    assert facts["call_off_rate.A-1.value"].unit == "ratio" and facts["call_off_rate.A-1.threshold"].value == 0.7
    assert facts["call_off_rate.A-1.from"].value == date(2025, 12, 1)
    assert "call_off_rate.A-1.months" not in facts  # lists are not figures
    assert verify_numbers("620 von 1.000 abgerufen: 62 % (Ziel 70 %)", result.facts()).ok
    value = facts["call_off_rate.A-1.value"]
    assert (value.display("de"), value.display("en")) == ("62,0\xa0%", "62.0%")  # core.i18n, as the templates
    assert value.metric == "call_off_rate" and facts["call_off_rate.A-1.threshold"].figure == "threshold"


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


# --- the gaps a review found: scales, glued units, signs, year-like amounts, grouping, ids, short quotes,
# figures bound to the fact they claim --------------------------------------------------------------------
RECEIVABLE = Fact("receivables.A-1.open", 250000, "currency", "policies")
GROWTH = Fact("revenue_growth.A-1.value", 0.12, "ratio", "policies")
DECLINE = Fact("revenue_growth.A-2.value", -0.12, "ratio", "policies")
WEIGHT = Fact("lot.weight", 1.5, "number", "crm")
BATCH = Fact("lot.qty", 1500, "qty", "crm")


@pytest.mark.parametrize(("text", "facts", "ok"), [
    ("Offene Posten 999k EUR", [RECEIVABLE], False),               # a scale suffix is a figure
    ("Offene Posten 250k EUR", [RECEIVABLE], True),
    ("Offene Posten 3 Mio.", [EXPOSURE], False),
    ("Exposure about 1.2 million", [EXPOSURE], True),             # rounded in millions
    ("Exposure about 1.3 million", [EXPOSURE], False),
    ("Offen: 450000EUR", [RECEIVABLE], False),                    # a figure glued to its unit
    ("Offen: 250000EUR", [RECEIVABLE], True),
    ("Lot of 5kg", [WEIGHT], False),
    ("8D-Report, 2nd meeting, H1 plan, KW48", [], True),           # names, ordinals and labels are no figures
    ("Growth -12 %", [GROWTH], False),                             # a written sign must be the fact's
    ("Growth +12 %", [DECLINE], False),
    ("Growth −12 %", [DECLINE], True),
    ("revenue fell 12 %", [DECLINE], True),                        # unsigned: the size of a decline
    ("Offen sind 2026 EUR", [AS_OF], False),                       # a year-like amount is an amount
    ("Offen sind EUR 2026", [AS_OF], False),
    ("Stand im Jahr 2026", [AS_OF], True),
    ("Charge 1,500 Stück", [WEIGHT], False),                       # a thousands group, not 1.5
    ("Charge 1,500 Stück", [BATCH], True),
    ("Quote 93,3 %, Gewicht 1,500 kg", [Fact("q", 0.933, "ratio", "x"), WEIGHT], True),  # the text uses a decimal comma
    ("Abruf 0,625", [Fact("q", 0.625, "ratio", "x")], True),
    ("Umsatz Q3-450000", [RECEIVABLE], False),                     # an amount glued to a label is no id
    ("Konto A-00001, Artikel BH-4410, Beleg U-KAM-001", [], True),
    ("Artikel 918.7717-04, Buchse 20x23x15 mm", [], True),          # article numbers and dimensions are names
    ("Notfall-Luftfracht 0,7 %", [Fact("air", 0.0069, "ratio", "x")], True),  # a stated decimal may round
    ("Notfall-Luftfracht 1 %", [Fact("air", 0.0069, "ratio", "x")], False),   # a lone digit may not
])
def test_the_gaps_in_number_tracing(text: str, facts: list[Fact], ok: bool) -> None:
    assert verify_numbers(text, facts).ok is ok, verify_numbers(text, facts).feedback()


def test_a_quote_must_point_at_one_passage() -> None:
    source = "The Recipient shall keep the information confidential for the term of the agreement."
    failures = verify_quotes(["the", "for the"], source).failures
    assert [f.reason.startswith("too short") for f in failures] == [True, True]
    assert verify_quotes(["keep the information confidential"], source).ok


@given(st.integers(min_value=1000, max_value=10**9))
def test_grouped_amounts_trace_to_themselves_only(amount: int) -> None:
    fact = Fact("x", amount, "currency", "crm")
    english, german = f"{amount:,}", f"{amount:,}".replace(",", ".")
    assert verify_numbers(f"EUR {english}", [fact]).ok and verify_numbers(f"{german} EUR", [fact]).ok
    assert not verify_numbers(f"EUR {english}", [Fact("y", amount / 1000, "currency", "crm")]).ok


@given(st.integers(min_value=10, max_value=999))
def test_scaled_amounts_carry_their_scale(thousands: int) -> None:
    fact = Fact("x", thousands * 1000, "currency", "crm")
    assert verify_numbers(f"{thousands}k EUR", [fact]).ok and verify_numbers(f"{thousands} Tsd. EUR", [fact]).ok
    assert not verify_numbers(f"{thousands + 1}k EUR", [fact]).ok
    assert not verify_numbers(f"{thousands} EUR", [fact]).ok


@given(st.floats(min_value=0.01, max_value=0.99).map(lambda v: round(v, 3)))
def test_a_written_sign_must_match(ratio: float) -> None:
    fact = Fact("x", ratio, "ratio", "policies")
    written = f"{ratio * 100:.1f}".replace(".", ",")
    assert verify_numbers(f"{written} %", [fact]).ok and verify_numbers(f"+{written} %", [fact]).ok
    assert not verify_numbers(f"-{written} %", [fact]).ok


def test_a_figure_inside_a_named_thing_is_part_of_its_name() -> None:
    article = Fact("article.description", "Rillenkugellager 6205", "text", "crm")
    qty = Fact("article.proposed_qty", 1887, "qty", "policies")
    assert verify_numbers("Nachbestellung Rillenkugellager 6205: 1.887 Stück", [article, qty]).ok
    assert not verify_numbers("Nachbestellung Rillenkugellager: 6205 Stück", [article, qty]).ok  # a claim now
    assert not verify_numbers("Rillenkugellager 6206", [article]).ok
