"""Demo documents per account: framework contract, NDA, quality agreement (PDF) and customer mails (.eml).

Clauses are numbered the way real contracts are (``§ 7 Vertragsstrafe`` / ``7. Contractual Penalty``), so the
knowledge store can split on them. NDA terms vary by account (term, governing law, residuals, penalty), which
gives the NDA reviewer real deviations to find.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from core.pdf import write_text_pdf


@dataclass(frozen=True)
class NdaTerms:
    term_years: int
    governing_law: str  # "de" | "en" | "ny"
    residuals: bool
    penalty_eur: int  # 0: none
    mutual: bool


def nda_terms(rng: random.Random) -> NdaTerms:
    return NdaTerms(term_years=rng.choice([2, 3, 3, 5, 5, 10]), governing_law=rng.choice(["de", "de", "en", "ny"]),
                    residuals=rng.random() < 0.3, penalty_eur=rng.choice([0, 0, 25_000, 250_000]),
                    mutual=rng.random() < 0.7)


LAW_TEXT = {
    "de": ("Dieser Vertrag unterliegt deutschem Recht. Gerichtsstand ist München.",
           "This Agreement is governed by the laws of the Federal Republic of Germany. Place of jurisdiction is Munich."),
    "en": ("Dieser Vertrag unterliegt dem Recht von England und Wales. Gerichtsstand ist London.",
           "This Agreement is governed by the laws of England and Wales. The courts of London have exclusive jurisdiction."),
    "ny": ("Dieser Vertrag unterliegt dem Recht des Staates New York.",
           "This Agreement is governed by the laws of the State of New York. The courts of New York County have exclusive jurisdiction."),
}


def framework_clauses(lang: str, customer: str, terms_days: int, penalty_pct: float) -> list[str]:
    if lang == "de":
        return [
            f"§ 1 Vertragsgegenstand. Dieser Rahmenliefervertrag regelt die Lieferung von Serienteilen durch den Lieferanten an {customer} (Kunde) auf Grundlage von Abrufen.",
            "§ 2 Abrufe und Lieferplan. Der Kunde übermittelt monatlich einen Lieferplan mit verbindlichen Abrufen für vier Wochen und einer Vorschau für sechs Monate. Abweichungen von mehr als 15 % gegenüber der Vorschau sind mit dem Lieferanten abzustimmen.",
            "§ 3 Preise. Die Preise gelten für die Laufzeit von zwölf Monaten. Bei Änderungen der Rohstoffkosten von mehr als 5 % kann jede Partei Preisverhandlungen verlangen (Materialteuerungszuschlag).",
            f"§ 4 Zahlungsbedingungen. Rechnungen sind innerhalb von {terms_days} Tagen ab Rechnungsdatum ohne Abzug zahlbar. Bei Zahlungsverzug gelten die gesetzlichen Verzugszinsen.",
            "§ 5 Lieferzeit und Lieferverzug. Vereinbarte Liefertermine sind verbindlich. Droht ein Lieferverzug, informiert der Lieferant den Kunden unverzüglich und schlägt Abhilfemaßnahmen vor, etwa Sonderfahrten oder Luftfracht auf eigene Kosten.",
            f"§ 6 Vertragsstrafe. Bei schuldhaftem Lieferverzug zahlt der Lieferant eine Vertragsstrafe von {penalty_pct:g} % des Auftragswertes je vollendeter Woche, höchstens 5 % des Auftragswertes.",
            "§ 7 Haftung. Die Haftung des Lieferanten für leichte Fahrlässigkeit ist auf den vertragstypischen, vorhersehbaren Schaden begrenzt, höchstens auf EUR 1.000.000 je Schadensfall.",
            "§ 8 Qualität und Gewährleistung. Es gilt die Qualitätssicherungsvereinbarung. Die Gewährleistungsfrist beträgt 24 Monate ab Einbau, höchstens 36 Monate ab Lieferung.",
            "§ 9 Sicherheitsbestand. Der Lieferant hält für jedes Serienteil einen Sicherheitsbestand von zwei Wochen des durchschnittlichen Bedarfs vor.",
            "§ 10 Laufzeit und Kündigung. Der Vertrag läuft auf unbestimmte Zeit und kann mit einer Frist von zwölf Monaten zum Jahresende gekündigt werden.",
            "§ 11 Schlussbestimmungen. " + LAW_TEXT["de"][0],
        ]
    return [
        f"1. Subject matter. This framework supply agreement governs the supply of series parts by the Supplier to {customer} (Customer) on the basis of call-offs.",
        "2. Call-offs and delivery schedule. The Customer sends a monthly delivery schedule with firm call-offs for four weeks and a forecast for six months. Deviations of more than 15 % from the forecast shall be agreed with the Supplier.",
        "3. Prices. Prices are fixed for twelve months. If raw material costs change by more than 5 %, either party may request a price renegotiation (material surcharge).",
        f"4. Payment terms. Invoices are payable within {terms_days} days of the invoice date without deduction. Late payment bears statutory default interest.",
        "5. Delivery time and delay. Agreed delivery dates are binding. If a delay is imminent, the Supplier informs the Customer without undue delay and proposes remedies such as special transports or air freight at its own cost.",
        f"6. Contractual penalty. For culpable late delivery the Supplier pays a contractual penalty of {penalty_pct:g} % of the order value per full week, capped at 5 % of the order value.",
        "7. Liability. The Supplier's liability for slight negligence is limited to typical, foreseeable damage and capped at EUR 1,000,000 per incident.",
        "8. Quality and warranty. The quality assurance agreement applies. The warranty period is 24 months from installation, at most 36 months from delivery.",
        "9. Safety stock. The Supplier keeps a safety stock of two weeks of average demand for every series part.",
        "10. Term and termination. The agreement runs for an indefinite period and may be terminated with twelve months' notice to the end of a calendar year.",
        "11. Final provisions. " + LAW_TEXT["de"][1],
    ]


def nda_clauses(lang: str, customer: str, terms: NdaTerms) -> list[str]:
    de = lang == "de"
    parties = ("beide Parteien" if terms.mutual else "der Lieferant") if de else (
        "each party" if terms.mutual else "the Supplier")
    clauses = [
        (f"§ 1 Vertrauliche Informationen. Vertrauliche Informationen sind alle technischen und kaufmännischen Informationen, die {parties} im Rahmen der Zusammenarbeit mit {customer} offenlegt, schriftlich oder mündlich."
         if de else
         f"1. Confidential Information. Confidential Information means all technical and commercial information disclosed by {parties} in connection with the cooperation with {customer}, whether in writing or orally."),
        ("§ 2 Geheimhaltungspflicht. Die empfangende Partei hält vertrauliche Informationen geheim und verwendet sie ausschließlich für die Prüfung und Durchführung der Zusammenarbeit."
         if de else
         "2. Obligation of confidentiality. The receiving party keeps Confidential Information secret and uses it solely to evaluate and perform the cooperation."),
        ("§ 3 Ausnahmen. Die Pflichten gelten nicht für Informationen, die öffentlich bekannt sind, der empfangenden Partei bereits bekannt waren oder von ihr unabhängig entwickelt wurden."
         if de else
         "3. Exceptions. The obligations do not apply to information that is public, was already known to the receiving party or was independently developed by it."),
        (f"§ 4 Laufzeit. Die Geheimhaltungspflicht gilt für {terms.term_years} Jahre ab Unterzeichnung."
         if de else f"4. Term. The confidentiality obligations remain in force for {terms.term_years} years from signature."),
        ("§ 5 Rückgabe. Nach Beendigung gibt die empfangende Partei alle Unterlagen zurück oder vernichtet sie; gesetzliche Aufbewahrungspflichten bleiben unberührt."
         if de else
         "5. Return of information. On termination the receiving party returns or destroys all documents, save for copies it must keep by law."),
    ]
    number = 6
    if terms.residuals:
        clauses.append(
            f"§ {number} Residuals. Die empfangende Partei darf Kenntnisse, die im Gedächtnis ihrer Mitarbeiter verbleiben (Residuals), frei verwenden."
            if de else
            f"{number}. Residuals. The receiving party may freely use information retained in the unaided memory of its employees (residuals).")
        number += 1
    if terms.penalty_eur:
        clauses.append(
            f"§ {number} Vertragsstrafe. Für jeden Fall der Zuwiderhandlung zahlt die empfangende Partei eine Vertragsstrafe von EUR {terms.penalty_eur:,}.".replace(",", ".")
            if de else
            f"{number}. Contractual penalty. For each breach the receiving party pays a contractual penalty of EUR {terms.penalty_eur:,}.")
        number += 1
    clauses.append((f"§ {number} Schlussbestimmungen. " + LAW_TEXT[terms.governing_law][0]) if de else
                   (f"{number}. Final provisions. " + LAW_TEXT[terms.governing_law][1]))
    return clauses


def quality_clauses(lang: str) -> list[str]:
    if lang == "de":
        return [
            "§ 1 Geltungsbereich. Diese Qualitätssicherungsvereinbarung gilt für alle Serienteile.",
            "§ 2 Null-Fehler-Ziel. Der Lieferant verfolgt das Null-Fehler-Ziel; die vereinbarte Reklamationsquote beträgt höchstens 50 ppm.",
            "§ 3 Reklamationen. Bei Reklamationen legt der Lieferant innerhalb von 24 Stunden Sofortmaßnahmen und innerhalb von zehn Arbeitstagen einen 8D-Report vor.",
            "§ 4 Erstmusterprüfung. Vor Serienstart und nach jeder Änderung ist eine Erstmusterprüfung nach PPAP oder VDA Band 2 durchzuführen.",
            "§ 5 Rückverfolgbarkeit. Jede Lieferung ist mit Chargennummer zu kennzeichnen; Aufzeichnungen sind 15 Jahre aufzubewahren.",
        ]
    return [
        "1. Scope. This quality assurance agreement applies to all series parts.",
        "2. Zero defects. The Supplier pursues a zero-defect target; the agreed complaint rate is at most 50 ppm.",
        "3. Complaints. For complaints the Supplier provides containment actions within 24 hours and an 8D report within ten working days.",
        "4. Initial samples. Before start of production and after every change an initial sample inspection according to PPAP or VDA volume 2 is required.",
        "5. Traceability. Every delivery carries a batch number; records are kept for 15 years.",
    ]


MAILS = {
    "de": [
        ("Abrufplanung nächste Wochen", "Guten Tag,\n\nanbei unsere aktualisierte Abrufplanung für {part}. Aufgrund der schwachen Nachfrage reduzieren wir die Mengen im kommenden Monat um etwa 20 %. Bitte bestätigen Sie die neuen Liefertermine.\n\nMit freundlichen Grüßen\n{contact}"),
        ("Reklamation Lieferung {part}", "Hallo,\n\ndie letzte Lieferung von {part} kam drei Tage zu spät und war unvollständig. Unsere Linie stand kurz vor dem Stillstand. Wir erwarten bis Freitag einen 8D-Report und eine Stellungnahme zu den Kosten der Sonderfahrt.\n\nGruß\n{contact}"),
    ],
    "en": [
        ("Call-off planning next weeks", "Hello,\n\nplease find attached our updated call-off plan for {part}. Due to weak demand we will reduce quantities next month by about 20 %. Please confirm the new delivery dates.\n\nBest regards\n{contact}"),
        ("Complaint: delivery of {part}", "Hi,\n\nthe last delivery of {part} arrived three days late and was incomplete. Our line nearly stopped. We expect an 8D report by Friday and a statement on the cost of the special transport.\n\nRegards\n{contact}"),
    ],
}


def write_account_documents(out_dir: Path, *, account_id: str, customer: str, language: str, terms_days: int,
                            part_number: str, contact_name: str, contact_email: str, rng: random.Random,
                            as_of: date) -> NdaTerms:
    """Write the account's documents under ``out_dir/<account_id>/`` and return its NDA terms."""
    folder = out_dir / account_id
    de = language == "de"
    write_text_pdf(folder / "framework_contract.pdf",
                   "Rahmenliefervertrag" if de else "Framework Supply Agreement",
                   framework_clauses(language, customer, terms_days, rng.choice([0.5, 1.0, 1.5])))
    terms = nda_terms(rng)
    write_text_pdf(folder / "nda.pdf", "Geheimhaltungsvereinbarung" if de else "Non-Disclosure Agreement",
                   nda_clauses(language, customer, terms))
    write_text_pdf(folder / "quality_agreement.pdf",
                   "Qualitätssicherungsvereinbarung" if de else "Quality Assurance Agreement", quality_clauses(language))
    for index, (subject, body) in enumerate(MAILS[language], start=1):
        message = EmailMessage()
        message["From"] = f"{contact_name} <{contact_email}>"
        message["To"] = "kam@supplier.example"
        message["Subject"] = subject.format(part=part_number)
        sent = datetime.combine(as_of - timedelta(days=rng.randint(2, 60) + 30 * index), datetime.min.time(),
                                tzinfo=UTC)
        message["Date"] = format_datetime(sent)
        message["Message-ID"] = f"<{account_id.lower()}-mail{index}@customer.example>"
        message.set_content(body.format(part=part_number, contact=contact_name))
        (folder / f"mail_{index}.eml").write_bytes(bytes(message))
    return terms
