"""The reviewed mail templates: one per trigger kind, language and audience, formal ("Sie"), every figure and
date filled in by code from the trigger's facts. On the embedded model these are the mail; the model may add
one personal sentence from the notes, which the checks accept or drop.

Proposed meeting dates come from the calendar: the next working days (no weekend, no German public holiday,
no day the account already has a meeting), from two days ahead.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from agents.escalation_drafter.schemas import Audience, Mail, Recipient, Trigger
from core import i18n
from core.i18n import Language, money, percent

PROPOSED_DATES = 3
LEAD_DAYS = 2


# --- the calendar ---------------------------------------------------------------------------------------
def _easter(year: int) -> date:
    """Easter Sunday (Gregorian computus)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    weekday = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 19 * weekday) // 433
    month = (h + weekday - 7 * m + 90) // 25
    return date(year, month, (h + weekday - 7 * m + 33 * month + 19) % 32)


def public_holidays(year: int) -> set[date]:
    """Germany's nationwide public holidays."""
    easter = _easter(year)
    return {date(year, 1, 1), date(year, 5, 1), date(year, 10, 3), date(year, 12, 25), date(year, 12, 26),
            *(easter + timedelta(days=n) for n in (-2, 1, 39, 50))}


def proposed_dates(as_of: date, busy: Iterable[date], count: int = PROPOSED_DATES) -> list[date]:
    """The next ``count`` working days from ``LEAD_DAYS`` ahead that are free in the account's calendar."""
    taken = set(busy)
    out: list[date] = []
    day = as_of + timedelta(days=LEAD_DAYS)
    while len(out) < count:
        if day.weekday() < 5 and day not in taken and day not in public_holidays(day.year):
            out.append(day)
        day += timedelta(days=1)
    return out


# --- how figures are written (core.i18n); a date in a mail carries its weekday ---------------------------
def whole(value: float, language: Language) -> str:
    return i18n.number(round(value), language)


def day(value: date, language: Language) -> str:
    """Monday, 30 November 2026 / Montag, 30. November 2026."""
    return i18n.weekday_date(value, language)


def period_text(period: str | None, language: Language) -> str:
    """"2026-10" → "im Oktober 2026" / "in October 2026"; a rolling window → the last twelve months."""
    if period and len(period) == 7 and period[4] == "-":
        return f"{'im' if language == 'de' else 'in'} {i18n.month(period, language)}"
    return "in den letzten zwölf Monaten" if language == "de" else "over the last twelve months"


def signed(t: Trigger, language: Language) -> str:
    """" vom 01.05.2025" / " of 1 May 2025": the framework contract's date, when the trigger knows it."""
    valid_from = t.value("contract.valid_from")
    if not isinstance(valid_from, date):
        return ""
    return f" vom {i18n.day(valid_from, language)}" if language == "de" else f" of {i18n.day(valid_from, language)}"


def greeting(recipient: Recipient, language: Language) -> str:
    return f"Guten Tag {recipient.name}," if language == "de" else f"Dear {recipient.name},"


def closing(sender: Recipient, language: Language) -> str:
    return (f"Mit freundlichen Grüßen\n{sender.name}\n{sender.email}" if language == "de"
            else f"Kind regards\n{sender.name}\n{sender.email}")


def _dates(dates: list[date], language: Language) -> str:
    return "\n".join(f"- {day(d, language)}" for d in dates)


# --- the templates ------------------------------------------------------------------------------------------
def _customer(t: Trigger, lang: Language, dates: list[date], currency: str) -> tuple[str, list[str]]:
    """Subject and paragraphs of a mail to the customer (only facts a customer may see)."""
    v = t.value
    de = lang == "de"
    if t.kind == "call_off_rate":
        rate, target = percent(v("call_off_rate.value"), lang), percent(v("call_off_rate.threshold"), lang)
        return (("Abrufe unter dem Rahmenvertrag: Terminvorschlag für ein Abstimmungsgespräch" if de else
                 "Call-offs under the framework contract: proposed dates for a meeting"),
                [(f"{period_text(t.period, lang)} lag die Abrufquote unter unserem Rahmenvertrag{signed(t, lang)} "
                  f"bei {rate} der geplanten Mengen; vereinbart sind mindestens {target}." if de else
                  f"{period_text(t.period, lang)}, the call-off rate under our framework contract{signed(t, lang)} "
                  f"was {rate} of the planned quantities; the agreed minimum is {target}."),
                 ("Damit wir unsere Kapazitäten weiter verlässlich für Sie vorhalten können, möchte ich den "
                  "Abrufplan gern gemeinsam mit Ihnen überprüfen und an Ihren tatsächlichen Bedarf anpassen." if de
                  else "So that we can keep reserving capacity reliably for you, I would like to review the "
                  "call-off plan with you and adjust it to your actual demand."),
                 ("Passt Ihnen einer dieser Termine für ein Gespräch?" if de
                  else "Would one of these dates suit you for a meeting?") + "\n" + _dates(dates, lang)])
    if t.kind == "otif":
        rate, target = percent(v("otif.value"), lang), percent(v("otif.threshold"), lang)
        return (("Unsere Liefertreue: Ursachen und nächste Schritte" if de
                 else "Our delivery performance: causes and next steps"),
                [(f"{period_text(t.period, lang)} haben wir nur {rate} Ihrer Lieferungen pünktlich "
                  f"und vollständig geliefert; unser Anspruch sind mindestens {target}." if de else
                  f"{period_text(t.period, lang)}, only {rate} of our deliveries to you arrived on "
                  f"time and in full; our standard is at least {target}."),
                 ("Das entspricht nicht dem, was Sie von uns erwarten dürfen. Ich möchte Ihnen die Ursachen und "
                  "unsere Maßnahmen persönlich erläutern." if de else
                  "That is not what you can expect from us. I would like to explain the causes and our measures "
                  "to you in person."),
                 ("Passt Ihnen einer dieser Termine?" if de else "Would one of these dates suit you?")
                 + "\n" + _dates(dates, lang)])
    if t.kind == "dunning":
        amount = money(v("invoice.open_amount"), str(v("invoice.currency")), lang)
        due, invoice = day(v("invoice.due_date"), lang), v("invoice.id")
        return ((f"Rechnung {invoice}: offener Betrag" if de else f"Invoice {invoice}: open amount"),
                [(f"bei der Durchsicht unserer offenen Posten ist mir aufgefallen, dass die Rechnung {invoice} über "
                  f"{amount}, fällig am {due}, noch offen ist." if de else
                  f"reviewing our open items, I noticed that invoice {invoice} for {amount}, due on {due}, is "
                  "still open."),
                 ("Bevor unsere Buchhaltung eine weitere Mahnung versendet, wollte ich mich persönlich bei Ihnen "
                  "melden. Sollte es eine Rückfrage zur Rechnung geben, klären wir sie gern gemeinsam." if de else
                  "Before our accounts department sends another reminder, I wanted to contact you personally. If "
                  "there is a question about the invoice, we will gladly clear it up together."),
                 # the tone follows the severity: at the last dunning levels the KAM asks for the payment itself
                 (f"Bitte veranlassen Sie die Zahlung bis {day(dates[0], lang)} oder geben Sie mir bis dahin "
                  "Bescheid, falls etwas dagegen spricht." if de else
                  f"Please arrange the payment by {day(dates[0], lang)}, or let me know by then if anything stands "
                  "in the way.") if t.severity == "high" else
                 (f"Können Sie mir bis {day(dates[0], lang)} mitteilen, wann die Zahlung erfolgt?" if de else
                  f"Could you let me know by {day(dates[0], lang)} when the payment will be made?")])
    if t.kind == "reorder":
        part, qty = v("article.part_number"), whole(v("article.proposed_qty"), lang)
        description = v("article.description")
        coverage = v("article.coverage_weeks")
        weeks = "" if coverage is None else f"{coverage:g}".replace(".", "," if de else ".")  # 13, not 13.0
        article = f"{part} ({description})"  # named in the body too: a forwarded mail loses its subject
        stock_line = ((f"Ihr Bestand des Artikels {article} reicht nach Ihren aktuellen Abrufen noch etwa {weeks} "
                       "Wochen." if de else
                       f"At your current call-offs, your stock of article {article} lasts about {weeks} weeks.")
                      if coverage is not None and v("article.stock_on_hand") else
                      (f"Ihr Bestand des Artikels {article} ist aufgebraucht." if de else
                       f"Your stock of article {article} has run out."))
        return ((f"Nachbestellung {article}: Bitte um Bestätigung" if de else f"Re-order {article}: please confirm"),
                [f"{stock_line} " + (f"Damit die Versorgung gesichert bleibt, schlage ich eine Nachbestellung von "
                                     f"{qty} Stück vor." if de else
                                     f"To keep your supply secure, I propose a re-order of {qty} pieces."),
                 (f"Können Sie mir die Menge bis {day(dates[0], lang)} bestätigen?" if de else
                  f"Could you confirm the quantity by {day(dates[0], lang)}?")])
    raise ValueError(f"no customer mail for a {t.kind} trigger")


def _internal(t: Trigger, lang: Language, dates: list[date], currency: str) -> tuple[str, list[str]]:
    """Subject and paragraphs of an internal mail (to the head of sales or the inside-sales partner)."""
    v = t.value
    de = lang == "de"
    who = f"{t.account_name} ({t.account_id})"
    if t.kind == "credit_limit":
        exposure = money(v("credit.exposure"), currency, lang)
        limit = money(v("credit.effective_limit"), currency, lang)
        return ((f"Kreditlimit überschritten: {who}" if de else f"Credit limit exceeded: {who}"),
                [(f"das Obligo von {who} liegt bei {exposure} und damit über dem wirksamen Limit von {limit} "
                  f"({percent(v('credit_utilisation.value'), lang)} Auslastung, Versicherer: "
                  f"{v('credit.insurer_decision')})." if de else
                  f"the exposure of {who} is {exposure}, above the effective limit of {limit} "
                  f"({percent(v('credit_utilisation.value'), lang)} utilisation, insurer: "
                  f"{v('credit.insurer_decision')})."),
                 ("Ich bitte um Ihre Entscheidung, wie wir mit offenen und neuen Aufträgen verfahren. Können wir "
                  "das an einem dieser Tage besprechen?" if de else
                  "Please decide how we proceed with open and new orders. Can we discuss it on one of these days?")
                 + "\n" + _dates(dates, lang)])
    if t.kind == "escalation_overdue":
        age, limit = whole(v("escalations_open_days.value"), lang), whole(v("escalations_open_days.threshold"), lang)
        opened = v("escalations.oldest_opened_on")
        return ((f"Eskalation seit {age} Tagen offen: {who}" if de else f"Escalation open for {age} days: {who}"),
                [(f"die älteste offene Eskalation bei {who} wurde am {day(opened, lang)} eröffnet und ist seit "
                  f"{age} Tagen offen; gelöst sein sollte sie nach höchstens {limit} Tagen." if de else
                  f"the oldest open escalation at {who} was opened on {day(opened, lang)} and has been open for "
                  f"{age} days; it should be solved within {limit} days at most."),
                 ("Ich brauche Ihre Unterstützung, um sie abzuschließen. Passt Ihnen einer dieser Termine?" if de
                  else "I need your support to close it. Would one of these dates suit you?")
                 + "\n" + _dates(dates, lang)])
    subject, paragraphs = _customer(t, lang, dates, currency)
    lead = (f"zur Abstimmung, bevor ich {who} anschreibe, mein Entwurf an den Kunden:" if de else
            f"for agreement before I write to {who}, my draft to the customer:")
    quoted = ["\n".join(f"> {line}" for line in paragraph.splitlines()) for paragraph in paragraphs]
    return ((f"Intern: {subject}" if de else f"Internal: {subject}"), [lead, *quoted])


def mail(t: Trigger, audience: Audience, sender: Recipient, recipient: Recipient, dates: list[date],
         currency: str, personal: str | None = None) -> Mail:
    """The template mail; ``personal`` (the model's checked sentence) goes after the first paragraph."""
    lang = recipient.language
    subject, paragraphs = (_customer if audience == "customer" else _internal)(t, lang, dates, currency)
    if personal:
        paragraphs = [paragraphs[0], personal, *paragraphs[1:]]
    if lang == "en":  # German goes on in lower case after the greeting's comma; English starts a sentence
        paragraphs[0] = paragraphs[0][:1].upper() + paragraphs[0][1:]
    body = "\n\n".join([greeting(recipient, lang), *paragraphs, closing(sender, lang)])
    return Mail(subject=subject, body=body)


def facts_for(t: Trigger, dates: list[date], audience: Audience) -> list[Any]:
    """What a mail about the trigger may state: its facts (internal ones only internally), the proposed dates
    and the year of the period it names."""
    import dataclasses

    from core.facts import Fact

    month = t.period if t.period and len(t.period) == 7 else ""  # a value judged for one month is that month's
    allowed = [dataclasses.replace(f.as_fact(), period=month if f.id == f"{t.kind}.value" else "")
               for f in t.facts if audience == "internal" or not f.internal]
    allowed += [Fact(f"proposed_date:{i}", d, "date", "calendar", "proposed") for i, d in enumerate(dates)]
    if month:
        allowed.append(Fact("period.year", int(month[:4]), "number", "period"))
    return allowed
