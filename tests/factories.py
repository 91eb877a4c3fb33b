"""Small hand-made CRM fixtures, so rule tests can state their expected numbers by hand."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from core.db import models as m


class Crm:
    """Adds rows with sensible defaults; every method returns the row it added."""

    def __init__(self, session: Session) -> None:
        self.s = session
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}-{self._n}"

    def add(self, row: Any) -> Any:
        self.s.add(row)
        self.s.flush()
        return row

    def user(self, role: str = "kam", **kw: Any) -> m.User:
        uid = kw.pop("id", self._id("U"))
        return self.add(m.User(id=uid, name=uid, email=f"{uid}@x.example", role=role, **kw))

    def account(self, owner: m.User | None = None, **kw: Any) -> m.Account:
        owner = owner or self.user()
        defaults = dict(name="Acme", segment="B", country="DE", currency="EUR", payment_terms_days=30,
                        insured_limit=100_000.0, insurer_decision="approved", kam_credit_limit=100_000.0)
        defaults.update(kw)
        return self.add(m.Account(id=defaults.pop("id", self._id("A")), owner_kam_id=owner.id, **defaults))

    def article(self, account: m.Account, **kw: Any) -> m.Article:
        defaults = dict(part_number="P-1", description="Part", product_group="fasteners", unit_cost=10.0,
                        lead_time_weeks=4, stock_on_hand=100, safety_stock=10)
        defaults.update(kw)
        return self.add(m.Article(id=defaults.pop("id", self._id("P")), account_id=account.id, **defaults))

    def contract(self, account: m.Account, **kw: Any) -> m.Contract:
        defaults = dict(contract_type="framework", title="FW", valid_from=date(2020, 1, 1), valid_to=None,
                        status="active")
        defaults.update(kw)
        return self.add(m.Contract(id=self._id("K"), account_id=account.id, **defaults))

    def plan(self, article: m.Article, contract: m.Contract, period: str, qty: int) -> m.CallOffPlan:
        return self.add(m.CallOffPlan(id=self._id("PL"), account_id=article.account_id, contract_id=contract.id,
                                      article_id=article.id, period=period, planned_qty=qty))

    def call_off(self, article: m.Article, day: date, qty: int) -> m.CallOff:
        return self.add(m.CallOff(id=self._id("CO"), account_id=article.account_id, article_id=article.id,
                                  call_off_date=day, period=f"{day.year:04d}-{day.month:02d}", qty=qty))

    def forecast(self, article: m.Article, period: str, qty: int) -> m.Forecast:
        return self.add(m.Forecast(id=self._id("F"), account_id=article.account_id, article_id=article.id,
                                   period=period, qty=qty))

    def delivery(self, article: m.Article, promised: date, qty: int, actual: date | None,
                 actual_qty: int | None = None, mode: str = "road") -> m.Delivery:
        return self.add(m.Delivery(id=self._id("D"), account_id=article.account_id, article_id=article.id,
                                   promised_date=promised, promised_qty=qty, actual_date=actual,
                                   actual_qty=qty if actual_qty is None and actual else actual_qty, mode=mode))

    def order(self, account: m.Account, day: date, lines: list[tuple[m.Article, int, float, float]],
              status: str = "open") -> m.Order:
        order = self.add(m.Order(id=self._id("O"), account_id=account.id, order_date=day,
                                 status="open" if status == "open" else "invoiced", currency=account.currency))
        for article, qty, price, cost in lines:
            self.add(m.OrderLine(id=self._id("OL"), order_id=order.id, account_id=account.id, article_id=article.id,
                                 qty=qty, unit_price=price, unit_cost=cost, status=status))
        return order

    def invoice(self, account: m.Account, issue: date, due: date, amount: float, dunning: int = 0,
                paid: float = 0.0, paid_on: date | None = None) -> m.Invoice:
        invoice = self.add(m.Invoice(id=self._id("I"), account_id=account.id, issue_date=issue, due_date=due,
                                     amount=amount, currency=account.currency, dunning_level=dunning))
        if paid:
            self.add(m.Payment(id=self._id("PAY"), invoice_id=invoice.id, account_id=account.id,
                               paid_date=paid_on or issue, amount=paid))
        return invoice

    def interaction(self, account: m.Account, day: date, *, qualified: bool = False,
                    contact: m.Contact | None = None) -> m.Interaction:
        contact = contact or self.contact(account)
        return self.add(m.Interaction(id=self._id("N"), account_id=account.id, contact_id=contact.id,
                                      interaction_date=day, interaction_type="call", qualified=qualified,
                                      language="de", note="Telefonat"))

    def contact(self, account: m.Account, relevant: bool = True) -> m.Contact:
        return self.add(m.Contact(id=self._id("C"), account_id=account.id, name="X", email="x@y.example",
                                  role="purchasing", language="de", is_relevant=relevant))

    def escalation(self, account: m.Account, opened: date, closed: date | None = None,
                   documented: bool = True) -> m.Escalation:
        return self.add(m.Escalation(id=self._id("E"), account_id=account.id, opened_on=opened, closed_on=closed,
                                     cause="late", documented=documented))

    def nps(self, account: m.Account, day: date, score: int | None) -> m.NpsResponse:
        return self.add(m.NpsResponse(id=self._id("NPS"), account_id=account.id, survey_date=day, score=score))

    def opportunity(self, account: m.Account, day: date) -> m.Opportunity:
        return self.add(m.Opportunity(id=self._id("OPP"), account_id=account.id, kind="cross_sell", title="x",
                                      status="identified", value=1000.0, identified_on=day))
