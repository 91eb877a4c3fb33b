"""Response and request models of the API (rule results are returned as the rules' own dataclasses)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from policies.credit import CreditPosition, LimitCheck


class _Orm(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class AccountSummary(_Orm):
    id: str
    name: str
    owner_kam_id: str
    inside_sales_id: str | None
    segment: str
    country: str
    currency: str


class ContactOut(_Orm):
    id: str
    name: str
    email: str
    role: str
    language: str


class ArticleOut(_Orm):
    id: str
    part_number: str
    description: str
    product_group: str
    unit_cost: float
    lead_time_weeks: int
    stock_on_hand: int
    safety_stock: int


class ContractOut(_Orm):
    id: str
    contract_type: str
    title: str
    valid_from: date | None
    valid_to: date | None
    status: str


class OpenInvoice(BaseModel):
    id: str
    issue_date: date
    due_date: date
    amount: float
    open_amount: float
    dunning_level: int


class OpenItems(BaseModel):
    invoices: list[OpenInvoice]
    open_orders: int
    open_order_value: float
    open_escalations: int


class AccountDetail(AccountSummary):
    industry: str
    payment_terms_days: int
    contracts: list[ContractOut]
    next_meeting: date | None
    # None where the principal's role may not see that kind of data; ``withheld`` names those parts.
    insured_limit: float | None
    insurer_decision: str | None
    kam_credit_limit: float | None
    contacts: list[ContactOut] | None
    articles: list[ArticleOut] | None
    open_items: OpenItems | None
    withheld: list[str] = Field(default_factory=list)


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class Liveness(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    checks: dict[str, dict[str, Any]] | None = None  # only for a signed-in caller


class Request(BaseModel):
    """A request body: finite numbers only (JSON's NaN and Infinity are refused), no unknown fields."""

    model_config = ConfigDict(allow_inf_nan=False, extra="forbid")


class PriceCheckRequest(Request):
    """The article's cost is the one on record; a caller cannot supply its own."""

    article_id: str = Field(max_length=64)
    proposed_price: float = Field(gt=0, le=1e9, description="Unit price in the account's currency")
    qty: int = Field(gt=0, le=100_000_000)


class CreditCheckRequest(Request):
    account_id: str = Field(max_length=64)
    order_value: float | None = Field(None, gt=0, le=1e12, description="Value of a new order to check")
    proposed_limit: float | None = Field(None, ge=0, le=1e12, description="A KAM credit limit to check")


class CreditCheckOut(BaseModel):
    order: CreditPosition | None = None  # the position as it would be with the new order
    limit: LimitCheck | None = None
    position: CreditPosition | None = None  # when neither an order nor a limit was given


class DocumentIngested(BaseModel):
    doc_id: str
    status: Literal["added", "updated", "unchanged"]
    chunks: int


class Citation(BaseModel):
    chunk_id: str
    doc_id: str
    source: str
    title: str
    clause: str | None
    heading: str | None
    start: int
    end: int
    account_id: str
    doc_type: str
    date: str | None


class SearchHit(BaseModel):
    score: float
    text: str
    citation: Citation
    ranks: dict[str, int | None]


class SearchOut(BaseModel):
    query: str
    mode: str
    doc_types: list[str]
    hits: list[SearchHit]


class TimelineItem(BaseModel):
    date: str
    doc_type: str
    doc_id: str
    title: str
    text: str
    chunk_id: str


class AuditEntryOut(_Orm):
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    account_id: str | None
    model: str | None
    prompt_version: str | None
    input_hash: str | None
    detail: str


class ErrorOut(BaseModel):
    """Every 4xx/5xx the service itself answers: a reason a person can act on."""

    detail: Any
    errors: list[str] = []
