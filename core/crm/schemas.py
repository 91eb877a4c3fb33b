"""CSV row schemas: one file per entity, one pydantic model per file.

Column names equal the database columns (tests check this). Empty cells mean "no value" for optional
columns. Dates are ISO ``YYYY-MM-DD``, periods ``YYYY-MM``, booleans ``true``/``false``.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from core.db import models
from core.i18n import Language

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tabs and line breaks are text; the rest is not
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Period = Annotated[str, StringConstraints(pattern=r"^\d{4}-(0[1-9]|1[0-2])$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Qty = Annotated[int, Field(ge=0)]
Money = Annotated[float, Field(ge=0)]


class Row(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _empty_cells_are_none(cls, data: object) -> object:
        if isinstance(data, dict):
            for column, value in data.items():
                if isinstance(value, str) and (bad := _CONTROL.search(value)):
                    raise ValueError(f"{column}: control character U+{ord(bad[0]):04X} is not allowed")
            return {k: (None if v == "" else v) for k, v in data.items()}
        return data


class UserRow(Row):
    id: Id
    name: Name
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=200)]
    role: Literal["kam", "inside_sales", "legal", "head_of_sales", "admin"]
    language: Literal["de", "en"] = "de"  # the language briefs and answers are written in for this user


class AccountRow(Row):
    id: Id
    name: Name
    owner_kam_id: Id
    inside_sales_id: Id | None = None
    segment: Literal["A", "B", "C"]
    industry: str = ""
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    currency: Currency
    payment_terms_days: Annotated[int, Field(ge=0, le=180)]
    insured_limit: Money
    insurer_decision: Literal["approved", "reduced", "declined", "pending"]
    kam_credit_limit: Money


class ContactRow(Row):
    id: Id
    account_id: Id
    name: Name
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$", max_length=200)]
    role: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    language: Language
    is_relevant: bool = True


class ArticleRow(Row):
    id: Id
    account_id: Id
    part_number: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    description: Name
    product_group: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    unit_cost: Money
    lead_time_weeks: Annotated[int, Field(ge=0, le=104)]
    stock_on_hand: Qty
    safety_stock: Qty


class ContractRow(Row):
    id: Id
    account_id: Id
    contract_type: Literal["framework", "nda", "quality_agreement"]
    title: Name
    valid_from: date | None = None
    valid_to: date | None = None
    status: Literal["draft", "pending", "active", "expired", "terminated"]

    @model_validator(mode="after")
    def _valid_range(self) -> ContractRow:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self


class CallOffPlanRow(Row):
    id: Id
    account_id: Id
    contract_id: Id
    article_id: Id
    period: Period
    planned_qty: Qty


class CallOffRow(Row):
    id: Id
    account_id: Id
    article_id: Id
    plan_id: Id | None = None
    call_off_date: date
    period: Period | None = None  # optional in files: derived from call_off_date
    qty: Qty

    @model_validator(mode="after")
    def _period_of_date(self) -> CallOffRow:
        derived = f"{self.call_off_date.year:04d}-{self.call_off_date.month:02d}"
        if self.period is None:
            self.period = derived
        elif self.period != derived:
            raise ValueError(f"period {self.period} does not match call_off_date {self.call_off_date}")
        return self


class ForecastRow(Row):
    id: Id
    account_id: Id
    article_id: Id
    period: Period
    qty: Qty


class OrderRow(Row):
    id: Id
    account_id: Id
    order_date: date
    status: Literal["open", "delivered", "invoiced", "cancelled"]
    currency: Currency


class OrderLineRow(Row):
    id: Id
    order_id: Id
    account_id: Id
    article_id: Id
    qty: Annotated[int, Field(gt=0)]
    unit_price: Money
    unit_cost: Money
    status: Literal["open", "delivered", "cancelled"]


class DeliveryRow(Row):
    id: Id
    account_id: Id
    article_id: Id
    order_line_id: Id | None = None
    promised_date: date
    promised_qty: Qty
    actual_date: date | None = None
    actual_qty: Qty | None = None
    mode: Literal["sea", "rail", "road", "air", "emergency_air"]


class InvoiceRow(Row):
    id: Id
    account_id: Id
    order_id: Id | None = None
    issue_date: date
    due_date: date
    amount: float
    currency: Currency
    dunning_level: Annotated[int, Field(ge=0, le=3)] = 0

    @model_validator(mode="after")
    def _due_after_issue(self) -> InvoiceRow:
        if self.due_date < self.issue_date:
            raise ValueError("due_date is before issue_date")
        return self


class PaymentRow(Row):
    id: Id
    invoice_id: Id
    account_id: Id
    paid_date: date
    amount: float


class EscalationRow(Row):
    id: Id
    account_id: Id
    opened_on: date
    closed_on: date | None = None
    cause: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    documented: bool = False


class InteractionRow(Row):
    id: Id
    account_id: Id
    contact_id: Id | None = None
    user_id: Id | None = None
    interaction_date: date
    interaction_type: Literal["visit", "call", "email", "meeting"]
    qualified: bool = False
    language: Language
    note: str = ""

    @field_validator("note", mode="before")
    @classmethod
    def _none_note_is_empty(cls, value: object) -> object:
        return "" if value is None else value


class MeetingRow(Row):
    id: Id
    account_id: Id
    planned_date: date
    title: Name
    attendees: str = ""


class NpsResponseRow(Row):
    id: Id
    account_id: Id
    contact_id: Id | None = None
    survey_date: date
    score: Annotated[int, Field(ge=0, le=10)] | None = None


class OpportunityRow(Row):
    id: Id
    account_id: Id
    kind: Literal["cross_sell", "up_sell"]
    title: Name
    status: Literal["identified", "qualified", "won", "lost"]
    value: Money
    identified_on: date


# file stem -> (row schema, table); in import order (referenced tables first)
ENTITIES: dict[str, tuple[type[Row], type[models.Base]]] = {
    "users": (UserRow, models.User),
    "accounts": (AccountRow, models.Account),
    "contacts": (ContactRow, models.Contact),
    "articles": (ArticleRow, models.Article),
    "contracts": (ContractRow, models.Contract),
    "call_off_plans": (CallOffPlanRow, models.CallOffPlan),
    "call_offs": (CallOffRow, models.CallOff),
    "forecasts": (ForecastRow, models.Forecast),
    "orders": (OrderRow, models.Order),
    "order_lines": (OrderLineRow, models.OrderLine),
    "deliveries": (DeliveryRow, models.Delivery),
    "invoices": (InvoiceRow, models.Invoice),
    "payments": (PaymentRow, models.Payment),
    "escalations": (EscalationRow, models.Escalation),
    "interactions": (InteractionRow, models.Interaction),
    "meetings": (MeetingRow, models.Meeting),
    "nps_responses": (NpsResponseRow, models.NpsResponse),
    "opportunities": (OpportunityRow, models.Opportunity),
}
