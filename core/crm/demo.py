"""Reproducible demo CRM data: two years of history per account, with planted situations.

Every account gets its own ``random.Random`` seeded from (seed, account number), so the data is the same
for the same seed and ``as_of`` date whatever the account count. The first accounts carry the *planted
situations* that rules and agents must find (see :data:`PLANTED`).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from core.calendar import add_months, month_key, month_start
from core.crm.documents import write_account_documents
from core.crm.notes import (
    CITIES,
    COMPANY_STEMS,
    COMPANY_SUFFIXES,
    FIRST_NAMES,
    LAST_NAMES,
    NOTE_TEMPLATES,
    PRODUCT_GROUPS,
)
from core.crm.schemas import ENTITIES

HISTORY_MONTHS = 24
ACCOUNTS_PER_KAM = 40
DOCUMENT_ACCOUNTS = 200  # accounts that also get contract PDFs and mails (documents are slow to embed)
DOCS_SUBDIR = "docs"

# account id -> what is planted there; tests and evals read this to know what must be found.
PLANTED: dict[str, str] = {
    "A-00001": "call-off rate 62 % (breach: < 70 %)",
    "A-00002": "OTIF 93 % (breach: < 98 %)",
    "A-00003": "exposure above the credit limit",
    "A-00004": "an invoice at dunning level 2",
    "A-00005": "an escalation open for 20 days",
    "A-00006": "NDA pending",
}
PLANTED_MEETINGS = {"A-00001": 2, "A-00003": 4, "A-00007": 1, "A-00008": 6}  # days ahead of as_of

COUNTRIES = [("DE", "EUR", "de")] * 5 + [
    ("AT", "EUR", "de"), ("CH", "CHF", "de"), ("US", "USD", "en"), ("GB", "GBP", "en"),
    ("FR", "EUR", "en"), ("PL", "EUR", "en"), ("CZ", "EUR", "en"), ("IT", "EUR", "en"),
]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September",
             "Oktober", "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December"]


def account_id(number: int) -> str:
    return f"A-{number:05d}"


class _Writers:
    """One CSV writer per entity file, header from the row schema."""

    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self._handles = {}
        self._writers: dict[str, csv.DictWriter] = {}
        self.counts: dict[str, int] = {}
        for stem, (schema, _) in ENTITIES.items():
            handle = (out_dir / f"{stem}.csv").open("w", newline="", encoding="utf-8")
            self._handles[stem] = handle
            writer = csv.DictWriter(handle, fieldnames=list(schema.model_fields), lineterminator="\n")
            writer.writeheader()
            self._writers[stem] = writer
            self.counts[stem] = 0

    def write(self, stem: str, row: dict[str, Any]) -> None:
        self._writers[stem].writerow({k: _cell(v) for k, v in row.items()})
        self.counts[stem] += 1

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@dataclass(frozen=True)
class DemoSummary:
    accounts: int
    rows: dict[str, int]
    out_dir: Path
    as_of: date


def generate(out_dir: Path, *, accounts: int, seed: int, as_of: date,
             document_accounts: int = DOCUMENT_ACCOUNTS) -> DemoSummary:
    """Write one CSV per entity into ``out_dir`` and, for the first accounts, documents into ``out_dir/docs``."""
    if accounts < 1:
        raise ValueError("accounts must be at least 1")
    writers = _Writers(out_dir)
    docs_dir = out_dir / DOCS_SUBDIR
    try:
        kams = max(2, -(-accounts // ACCOUNTS_PER_KAM))  # at least two, so access rules have something to split
        for row in _users(kams, seed):
            writers.write("users", row)
        for number in range(1, accounts + 1):
            history = _AccountHistory(number, seed, as_of, kams, writers)
            history.write()
            if number <= document_accounts:
                history.write_documents(docs_dir, seed)
    finally:
        writers.close()
    return DemoSummary(accounts=accounts, rows=dict(writers.counts), out_dir=out_dir, as_of=as_of)


def _users(kams: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(1, kams + 1):
        lang = "de" if i % 3 else "en"
        first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(LAST_NAMES[lang])
        yield {"id": f"U-KAM-{i:03d}", "name": f"{first} {last}", "email": f"kam{i}@supplier.example",
               "role": "kam", "language": lang}
        first, last = rng.choice(FIRST_NAMES[lang]), rng.choice(LAST_NAMES[lang])
        yield {"id": f"U-ISP-{i:03d}", "name": f"{first} {last}", "email": f"isp{i}@supplier.example",
               "role": "inside_sales", "language": lang}
    yield {"id": "U-LEGAL-1", "name": "Dr. Clara Brandt", "email": "legal@supplier.example", "role": "legal",
           "language": "de"}
    yield {"id": "U-HOS-1", "name": "Michael Keller", "email": "hos@supplier.example", "role": "head_of_sales",
           "language": "de"}
    yield {"id": "U-ADMIN-1", "name": "Admin", "email": "admin@supplier.example", "role": "admin",
           "language": "en"}


class _AccountHistory:
    """Generates and writes every record of one account."""

    def __init__(self, number: int, seed: int, as_of: date, kams: int, writers: _Writers) -> None:
        self.id = account_id(number)
        self.number = number
        self.rng = random.Random(seed * 1_000_003 + number)
        self.as_of = as_of
        self.kam_index = (number - 1) % kams + 1
        self.w = writers
        self.country, self.currency, self.language = self.rng.choice(COUNTRIES)
        self.start = add_months(month_start(as_of), -(HISTORY_MONTHS - 1))
        self.planted = self.id in PLANTED

    # --- helpers -------------------------------------------------------------------------------
    def _month_name(self, d: date) -> str:
        return (MONTHS_DE if self.language == "de" else MONTHS_EN)[d.month - 1]

    def _note(self, topic: str, when: date, **facts: Any) -> str:
        template = self.rng.choice(NOTE_TEMPLATES[topic][self.language])
        contact = self.rng.choice(self.contacts)
        values = {
            "contact": contact["name"], "role": contact["role"], "city": self.city,
            "part": self.rng.choice(self.articles)["part_number"],
            "next_month": self._month_name(add_months(month_start(when), 1)),
            "pct": self.rng.choice([2, 3, 4, 5]), "days": self.rng.randint(3, 9),
            "qty": self.rng.choice([20_000, 50_000, 120_000]), "year": when.year + 2,
        }
        values.update(facts)
        return template.format(**values)

    def write_documents(self, docs_dir: Path, seed: int) -> None:
        contact = self.contacts[0]
        write_account_documents(
            docs_dir, account_id=self.id, customer=self.account_row["name"], language=self.language,
            terms_days=self.account_row["payment_terms_days"], part_number=self.articles[0]["part_number"],
            contact_name=contact["name"], contact_email=contact["email"],
            rng=random.Random(f"{seed}-{self.number}-docs"), as_of=self.as_of)

    # --- generation ----------------------------------------------------------------------------
    def write(self) -> None:
        rng = self.rng
        self.city = rng.choice(CITIES[self.country])
        self.segment = rng.choices("ABC", weights=[2, 5, 3])[0]
        self.margin = rng.uniform(0.18, 0.34)
        self.growth = rng.uniform(-0.06, 0.15)  # yearly demand trend
        self._account()
        self._contacts()
        self._articles()
        self._contracts()
        self._series_flow()
        self._interactions()
        self._meetings()
        self._escalations()
        self._nps()
        self._opportunities()

    def _account(self) -> None:
        rng = self.rng
        name = f"{rng.choice(COMPANY_STEMS)} {rng.choice(COMPANY_SUFFIXES[self.country])}"
        self.account_row: dict[str, Any] = {
            "id": self.id, "name": name, "owner_kam_id": f"U-KAM-{self.kam_index:03d}",
            "inside_sales_id": f"U-ISP-{self.kam_index:03d}", "segment": self.segment,
            "industry": rng.choice(["automotive", "industrial", "agricultural machinery", "e-mobility"]),
            "country": self.country, "currency": self.currency,
            "payment_terms_days": rng.choice([30, 30, 45, 60]),
            "insurer_decision": "approved",
        }

    def _contacts(self) -> None:
        rng = self.rng
        self.contacts: list[dict[str, Any]] = []
        for i, role in enumerate(["purchasing", "logistics", "quality"][: rng.randint(2, 3)], start=1):
            first, last = rng.choice(FIRST_NAMES[self.language]), rng.choice(LAST_NAMES[self.language])
            row: dict[str, Any] = {"id": f"{self.id}-C{i}", "account_id": self.id, "name": f"{first} {last}",
                   "email": f"{first.lower()}.{i}@{self.id.lower()}.example", "role": role,
                   "language": self.language, "is_relevant": True}
            self.contacts.append(row)
            self.w.write("contacts", row)

    def _articles(self) -> None:
        rng = self.rng
        self.articles: list[dict[str, Any]] = []
        count = rng.randint(3, 5)
        if self.id == "A-00002":
            count = 5  # so its planted OTIF is 93 % in any 12-month window (see _delivery_is_late)
        for i in range(1, count + 1):
            group = rng.choice(list(PRODUCT_GROUPS))
            cost = round(rng.uniform(0.4, 35.0), 2)
            demand = rng.choice([400, 800, 1500, 3000, 6000])
            lead = rng.choice([4, 6, 8, 10, 12])
            weekly = demand / 4.33
            # Most articles have 6-14 weeks of stock; some run low or are empty (replenishment finds them).
            cover_weeks = rng.choice([0, 2, 5, 8, 10, 12, 14]) if i == 1 else rng.uniform(6, 14)
            row = {"id": f"{self.id}-P{i}", "account_id": self.id,
                   "part_number": f"{rng.randint(100, 999)}.{rng.randint(1000, 9999)}-{i:02d}",
                   "description": rng.choice(PRODUCT_GROUPS[group]), "product_group": group,
                   "unit_cost": cost, "lead_time_weeks": lead,
                   "stock_on_hand": int(weekly * cover_weeks), "safety_stock": int(weekly * 2)}
            row["_demand"] = demand
            self.articles.append(row)
            self.w.write("articles", {k: v for k, v in row.items() if not k.startswith("_")})

    def _contracts(self) -> None:
        fw_from = add_months(self.start, -6)
        self.framework_id = f"{self.id}-FW1"
        self.w.write("contracts", {"id": self.framework_id, "account_id": self.id, "contract_type": "framework",
                                   "title": "Rahmenliefervertrag Serienteile" if self.language == "de"
                                   else "Framework supply agreement, series parts",
                                   "valid_from": fw_from, "valid_to": date(fw_from.year + 4, fw_from.month, 1),
                                   "status": "active"})
        nda_status = "pending" if self.id == "A-00006" else "active"
        self.w.write("contracts", {"id": f"{self.id}-NDA1", "account_id": self.id, "contract_type": "nda",
                                   "title": "Geheimhaltungsvereinbarung" if self.language == "de"
                                   else "Mutual non-disclosure agreement",
                                   "valid_from": None if nda_status == "pending" else fw_from,
                                   "valid_to": None, "status": nda_status})

    def _call_off_ratio(self) -> float:
        if self.id == "A-00001":
            return 0.62
        return self.rng.uniform(0.82, 1.04)

    def _delivery_is_late(self, index: int) -> bool:
        if self.id == "A-00002":
            # one in 15 late, evenly spread: with its 5 articles, 4 of 60 deliveries a year -> OTIF 93.3 %
            return index % 15 == 7
        return self.rng.random() < 0.008

    def _series_flow(self) -> None:
        """Monthly plans, forecasts, call-offs, orders, deliveries, invoices and payments."""
        rng, as_of = self.rng, self.as_of
        delivery_index = 0
        unpaid_total = 0.0
        revenue_total = 0.0
        for m in range(HISTORY_MONTHS):
            month = add_months(self.start, m)
            period = month_key(month)
            order_date = month + timedelta(days=rng.randint(1, 5))
            if order_date > as_of:
                order_date = month
            order_id = f"{self.id}-O{period}"
            open_order = order_date > as_of - timedelta(days=14)
            lines = []
            for art in self.articles:
                season = 1.0 + 0.1 * ((month.month % 6) - 2.5) / 2.5
                trend = (1 + self.growth) ** (m / 12)
                planned = max(10, int(art["_demand"] * season * trend))
                plan_id = f"{art['id']}-{period}"
                self.w.write("call_off_plans", {"id": plan_id, "account_id": self.id,
                                                "contract_id": self.framework_id, "article_id": art["id"],
                                                "period": period, "planned_qty": planned})
                ratio = self._call_off_ratio()
                qty = max(1, round(planned * ratio))
                self.w.write("forecasts", {"id": f"{art['id']}-F{period}", "account_id": self.id,
                                           "article_id": art["id"], "period": period,
                                           "qty": max(1, round(qty * rng.gauss(1.0, 0.04)))})
                self.w.write("call_offs", {"id": f"{art['id']}-CO{period}", "account_id": self.id,
                                           "article_id": art["id"], "plan_id": plan_id,
                                           "call_off_date": order_date, "period": month_key(order_date),
                                           "qty": qty})
                price_margin = self.margin + rng.uniform(-0.03, 0.03)
                unit_price = round(art["unit_cost"] / (1 - price_margin), 2)
                line_id = f"{order_id}-L{art['id'][-1]}"
                lines.append((line_id, art, qty, unit_price))
                self.w.write("order_lines", {"id": line_id, "order_id": order_id, "account_id": self.id,
                                             "article_id": art["id"], "qty": qty, "unit_price": unit_price,
                                             "unit_cost": art["unit_cost"],
                                             "status": "open" if open_order else "delivered"})
                promised = order_date + timedelta(days=14)
                late = self._delivery_is_late(delivery_index)
                delivery_index += 1
                mode = "emergency_air" if (late and rng.random() < 0.3) else rng.choice(["sea", "rail", "road",
                                                                                         "road"])
                short = late and rng.random() < 0.5
                self.w.write("deliveries", {
                    "id": f"{line_id}-D", "account_id": self.id, "article_id": art["id"],
                    "order_line_id": line_id, "promised_date": promised, "promised_qty": qty,
                    "actual_date": None if open_order else promised + timedelta(days=rng.randint(3, 9) if late
                                                                                else rng.choice([-1, 0, 0, 1])),
                    "actual_qty": None if open_order else (int(qty * 0.8) if short else qty),
                    "mode": mode})
            self.w.write("orders", {"id": order_id, "account_id": self.id, "order_date": order_date,
                                    "status": "open" if open_order else "invoiced", "currency": self.currency})
            amount = round(sum(q * p for _, _, q, p in lines), 2)
            revenue_total += amount
            if open_order:
                continue
            issue = order_date + timedelta(days=15)
            due = issue + timedelta(days=self.account_row["payment_terms_days"])
            invoice_id = f"{self.id}-I{period}"
            dunning = 0
            paid_on: date | None = due + timedelta(days=rng.choice([-5, -2, 0, 0, 3]))
            if self.id == "A-00004" and m == HISTORY_MONTHS - 4:
                paid_on, dunning = None, 2
                due = as_of - timedelta(days=40)
                issue = due - timedelta(days=self.account_row["payment_terms_days"])
            if paid_on is not None and paid_on > as_of:
                paid_on = None  # not yet due or not yet paid
            if paid_on is None:
                unpaid_total += amount
            self.w.write("invoices", {"id": invoice_id, "account_id": self.id, "order_id": order_id,
                                      "issue_date": issue, "due_date": due, "amount": amount,
                                      "currency": self.currency, "dunning_level": dunning})
            if paid_on is not None:
                self.w.write("payments", {"id": f"{invoice_id}-PAY", "invoice_id": invoice_id,
                                          "account_id": self.id, "paid_date": paid_on, "amount": amount})
        monthly = revenue_total / HISTORY_MONTHS
        # Limits sized to about five months of revenue (exposure is usually two to three months);
        # the over-limit account gets less than one month.
        insured = round(monthly * 5.0, -3) or 10_000.0
        kam_limit = insured if self.rng.random() < 0.7 else round(insured * 0.8, -3) or 10_000.0
        if self.id == "A-00003":
            insured = kam_limit = max(10_000.0, round(monthly * 0.8, -3))
        self.account_row.update({"insured_limit": insured, "kam_credit_limit": kam_limit})
        self.w.write("accounts", self.account_row)

    def _interactions(self) -> None:
        rng = self.rng
        count = 0
        topics = ["visit", "forecast", "forecast", "price", "lead", "finance"]
        if self.id == "A-00001":
            topics += ["forecast"] * 4
        if self.id == "A-00002":
            topics += ["late_delivery"] * 4
        for m in range(HISTORY_MONTHS):
            month = add_months(self.start, m)
            for _ in range(rng.choice([1, 1, 2, 2, 3])):
                day = month + timedelta(days=rng.randint(0, 27))
                if day > self.as_of:
                    continue
                count += 1
                topic = rng.choice(topics)
                kind = {"visit": "visit", "lead": "meeting"}.get(topic, rng.choice(["call", "email"]))
                contact = rng.choice(self.contacts)
                self.w.write("interactions", {
                    "id": f"{self.id}-N{count:03d}", "account_id": self.id, "contact_id": contact["id"],
                    "user_id": f"U-KAM-{self.kam_index:03d}", "interaction_date": day,
                    "interaction_type": kind, "qualified": kind in ("visit", "meeting") or topic == "price",
                    "language": self.language, "note": self._note(topic, day)})

    def _meetings(self) -> None:
        for q in range(0, HISTORY_MONTHS, 3):
            day = add_months(self.start, q) + timedelta(days=self.rng.randint(5, 20))
            if day <= self.as_of:
                self._meeting(f"{self.id}-M{q:02d}", day, "Quartalsgespräch" if self.language == "de"
                              else "Quarterly business review")
        if self.id in PLANTED_MEETINGS:
            title = ("Jahresgespräch und Abrufplanung" if self.language == "de"
                     else "Annual review and call-off planning")
            self._meeting(f"{self.id}-MNEXT", self.as_of + timedelta(days=PLANTED_MEETINGS[self.id]), title)

    def _meeting(self, meeting_id: str, day: date, title: str) -> None:
        attendees = "; ".join(c["name"] for c in self.contacts[:2])
        self.w.write("meetings", {"id": meeting_id, "account_id": self.id, "planned_date": day, "title": title,
                                  "attendees": attendees})

    def _escalations(self) -> None:
        rng = self.rng
        if self.id == "A-00005":
            self.w.write("escalations", {"id": f"{self.id}-E1", "account_id": self.id,
                                         "opened_on": self.as_of - timedelta(days=20), "closed_on": None,
                                         "cause": "Qualitätsproblem: Grat an Stanzteil, Sortierung beim Kunden"
                                         if self.language == "de" else "Quality issue: burr on stamped part, "
                                         "sorting at customer site", "documented": True})
        elif rng.random() < 0.3:
            opened = self.start + timedelta(days=rng.randint(30, 600))
            if opened < self.as_of - timedelta(days=30):
                self.w.write("escalations", {"id": f"{self.id}-E1", "account_id": self.id, "opened_on": opened,
                                             "closed_on": opened + timedelta(days=rng.randint(3, 12)),
                                             "cause": "Late delivery" if self.language == "en" else "Lieferverzug",
                                             "documented": rng.random() < 0.9})

    def _nps(self) -> None:
        for year_offset in (0, 12):
            survey = add_months(self.start, year_offset + 6)
            if survey > self.as_of:
                continue
            for contact in self.contacts:
                score = None if self.rng.random() < 0.15 else self.rng.choice([6, 7, 8, 8, 9, 9, 10])
                self.w.write("nps_responses", {"id": f"{contact['id']}-NPS{survey.year}", "account_id": self.id,
                                               "contact_id": contact["id"], "survey_date": survey, "score": score})

    def _opportunities(self) -> None:
        rng = self.rng
        for i in range(1, rng.randint(2, 9) + 1):
            identified = self.start + timedelta(days=rng.randint(0, HISTORY_MONTHS * 30 - 1))
            if identified > self.as_of:
                identified = self.as_of
            self.w.write("opportunities", {
                "id": f"{self.id}-OPP{i}", "account_id": self.id, "kind": rng.choice(["cross_sell", "up_sell"]),
                "title": rng.choice(["Dichtungen für neue Plattform", "Seals for new platform",
                                     "Variante mit Beschichtung", "Coated variant", "Konsignationslager"]),
                "status": rng.choice(["identified", "qualified", "won", "lost"]),
                "value": float(rng.choice([15_000, 40_000, 90_000, 250_000])), "identified_on": identified})
