"""Response models of the read API."""

from __future__ import annotations

from datetime import date
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict


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
    insured_limit: float
    insurer_decision: str
    kam_credit_limit: float
    contacts: list[ContactOut]
    articles: list[ArticleOut]
    contracts: list[ContractOut]
    open_items: OpenItems
    next_meeting: date | None


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
