"""The deterministic extractors on sentences written for these tests (German and English phrasings)."""

from __future__ import annotations

import pytest

from agents.nda_review import extractors as x
from agents.nda_review.text import NdaText, amounts, durations, parse_amount

OURS = ["Nordwerk Komponenten GmbH", "Nordwerk"]


def doc(*clauses: str) -> NdaText:
    return NdaText("Vereinbarung\n" + "\n".join(f"{i}. {c}" for i, c in enumerate(clauses, start=1)))


@pytest.mark.parametrize(("text", "years"), [
    ("sechsunddreißig Monate", 3.0), ("two (2) years", 2.0), ("einem Jahr", 1.0), ("18 months", 1.5),
    ("zehn weitere Jahre", 10.0)])
def test_durations(text: str, years: float) -> None:
    assert durations(text)[0].years == years


def test_amounts_in_both_formats() -> None:
    assert parse_amount("25.000") == 25000 and parse_amount("50.000,00") == 50000
    assert parse_amount("10,000.50") == 10000.5
    assert amounts("eine Vertragsstrafe von 7.500 € je Fall") == [(7500.0, "EUR")]
    assert amounts("liquidated damages of USD 40,000") == [(40000.0, "USD")]


def test_term_and_survival_are_told_apart() -> None:
    d = doc("Laufzeit. Die Vereinbarung gilt vier Jahre ab dem Tag der Unterzeichnung.",
            "Nachwirkung. Die Geheimhaltung ist noch sieben Jahre nach Vertragsende zu wahren.",
            "Abwerbung. Keine Partei wirbt für 24 Monate Mitarbeiter ab.")
    assert x.term(d).years == 4 and x.survival(d).years == 7


def test_indefinite_term_with_and_without_a_way_out() -> None:
    open_ended = doc("Duration. This Agreement continues until terminated by mutual written agreement.")
    cancellable = doc("Dauer. Der Vertrag läuft auf unbestimmte Zeit; jede Partei kann ihn mit drei Monaten Frist "
                      "kündigen.")
    assert x.term(open_ended).indefinite and x.term(open_ended).termination_right is False
    assert x.term(cancellable).indefinite and x.term(cancellable).termination_right is True


def test_perpetual_confidentiality_but_not_the_trade_secret_carve_out() -> None:
    forever = doc("Survival. The duty of confidentiality shall continue without time limit.")
    secrets = doc("Survival. Obligations survive for three years after termination; trade secrets stay protected "
                  "for as long as they remain trade secrets.")
    assert x.survival(forever).perpetual
    carve = x.survival(secrets)
    assert not carve.perpetual and carve.years == 3 and carve.trade_secret_carve_out


@pytest.mark.parametrize(("sentence", "law", "cisg"), [
    ("Diese Vereinbarung unterliegt deutschem Recht unter Ausschluss des UN-Kaufrechts.", "DE", True),
    ("This agreement is governed by the laws of Austria.", "AT", False),
    ("Es gilt niederländisches Recht.", "NL", False),
    ("This Agreement shall be construed under the laws of the State of California.", "US-CA", False),
])
def test_governing_law(sentence: str, law: str, cisg: bool) -> None:
    facts = x.governing_law(doc("Recht. " + sentence))
    assert (facts.law, facts.cisg_excluded) == (law, cisg)


def test_venue_by_courts_and_by_arbitration() -> None:
    courts = x.jurisdiction(doc("Gerichtsstand. Gerichtsstand ist Köln."))
    arbitration = x.jurisdiction(doc("Disputes. All disputes are settled under the ICC Rules; the seat of "
                                     "arbitration is Zurich."))
    unknown = x.jurisdiction(doc("Venue. The courts of Timbuktu shall have exclusive jurisdiction."))
    assert (courts.kind, courts.country) == ("courts", "DE")
    assert (arbitration.kind, arbitration.institution, arbitration.country) == ("arbitration", "ICC", "CH")
    assert unknown.country is None and unknown.uncertain


def test_definition_marked_or_everything() -> None:
    marked = x.ci_definition(doc("Definition. Confidential Information means information labelled confidential; "
                                 "oral information only if confirmed in writing within fourteen days."))
    everything = x.ci_definition(doc("Definition. Vertrauliche Informationen sind alle Informationen, unabhängig "
                                     "von einer Kennzeichnung."))
    assert marked.marking_required and marked.oral_confirmation_days == 14 and not marked.all_information
    assert everything.all_information


def test_exclusions_are_counted_in_the_exceptions_clause_only() -> None:
    d = doc("Exceptions. These duties do not apply to information that is public or was independently developed.",
            "Law. This Agreement is governed by German law.")
    assert sorted(x.exclusions(d)[0].present) == ["independently_developed", "public"]


def test_recipients_allowed_and_forbidden() -> None:
    d = doc("Weitergabe. Die Empfängerin darf Informationen an ihre Arbeitnehmer und Steuerberater weitergeben. "
            "Eine Weitergabe an Konzerngesellschaften oder Subunternehmer ist untersagt.")
    assert x.permitted_recipients(d)[0].allowed == ["employees", "advisers"]
    listed = doc("Use. The recipient will not share it with anyone other than its staff, affiliates and "
                 "subcontractors.")
    assert x.permitted_recipients(listed)[0].allowed == ["employees", "affiliates", "suppliers_subcontractors"]


def test_return_with_and_without_retention() -> None:
    keep = doc("Return. On request all material is destroyed; backup copies may be kept.")
    strict = doc("Rückgabe. Alle Unterlagen sind vollständig zurückzugeben.")
    assert x.return_destroy(keep)[0].retention_carve_out and not x.return_destroy(strict)[0].retention_carve_out


def test_forbidden_clauses() -> None:
    d = doc("Memory. Knowledge retained in the unaided memory of staff may be used freely.",
            "Exclusivity. During the term the recipient buys such parts exclusively from the discloser and grants "
            "exclusivity.", "Damages. For each breach liquidated damages of EUR 5,000 are due.",
            "Freistellung. Die Empfängerin hat die Offenlegende von allen Ansprüchen Dritter freizustellen.")
    assert x._presence(d, x.RESIDUALS).found and x._presence(d, x.NON_COMPETE).found
    assert x.penalty(d).amount == 5000 and x.liability(d).found


def test_licence_grants_but_not_their_denial() -> None:
    grant = doc("Licence. The discloser grants the recipient a licence to use the information for its products.")
    denial = doc("Rights. No licence is granted by this agreement.")
    assert x.ip(grant).licence and not x.ip(denial).found


def test_assignment_variants() -> None:
    free = doc("Übertragung. Jede Partei ist berechtigt, ihre Rechte ohne Zustimmung auf Dritte zu übertragen.")
    consent = doc("Assignment. Neither party may assign this Agreement without consent, save to an affiliate.")
    assert x.assignment(free).consent_required is False
    facts = x.assignment(consent)
    assert facts.consent_required and facts.affiliate_exception


def test_who_discloses() -> None:
    one_way_them = NdaText('AGREEMENT between Acme Ltd (the "Disclosing Party") and Nordwerk Komponenten GmbH '
                           '(the "Recipient").\n1. Scope. The Recipient keeps everything secret.\n2. End. Two years.')
    one_way_us = NdaText('AGREEMENT between Nordwerk Komponenten GmbH (the "Discloser") and Acme Ltd (the '
                         '"Recipient").\n1. Scope. The Recipient keeps everything secret.\n2. End. Two years.')
    mutual = doc("Zweck. Die Parteien legen einander Informationen offen.", "Ende. Zwei Jahre.")
    assert x.mutuality(one_way_them, OURS).discloser == "them"
    assert x.mutuality(one_way_us, OURS).discloser == "us"
    assert x.mutuality(mutual, OURS).discloser == "both"
    assert x.mutuality(doc("Zweck. Informationen werden ausgetauscht.", "Ende. Zwei Jahre."), OURS).uncertain


def test_evidence_is_an_exact_slice_with_its_page() -> None:
    text = "NDA\n1. Term. This Agreement runs for two (2) years.\n\n2. Law. German law applies."
    d = NdaText(text, page_of=lambda offset: 1 if offset < 40 else 2)
    evidence = x.term(d).evidence[0]
    assert text[evidence.start:evidence.end] == evidence.quote and evidence.page == 1
    assert x.governing_law(d).evidence[0].page == 2
