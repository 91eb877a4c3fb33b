"""CRM data model.

Every table's primary key ``id`` is the record's *external id* from the source system, so an import is an
idempotent upsert and CSV files can reference each other without an id-mapping step. Child tables carry a
denormalised ``account_id`` because almost every rule aggregates per account.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _fk(target: str, *, nullable: bool = False, index: bool = True) -> Mapped:
    return mapped_column(String(64), ForeignKey(target), nullable=nullable, index=index)


class User(Base):
    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # kam | inside_sales | legal | head_of_sales | admin
    language: Mapped[str] = mapped_column(String(2), default="de", server_default="de")  # what they read: de | en


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_kam_id: Mapped[str] = _fk("users.id")
    inside_sales_id: Mapped[str | None] = _fk("users.id", nullable=True)
    segment: Mapped[str] = mapped_column(String(1))  # A | B | C
    industry: Mapped[str] = mapped_column(String(60), default="")
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    insured_limit: Mapped[float] = mapped_column(Float, default=0.0)
    insurer_decision: Mapped[str] = mapped_column(String(20))  # approved | reduced | declined | pending
    kam_credit_limit: Mapped[float] = mapped_column(Float, default=0.0)


class Contact(Base):
    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(60))  # purchasing | logistics | quality | engineering | management
    language: Mapped[str] = mapped_column(String(2))  # de | en
    is_relevant: Mapped[bool] = mapped_column(Boolean, default=True)


class Article(Base):
    __tablename__ = "articles"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    part_number: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(String(200))
    product_group: Mapped[str] = mapped_column(String(60))
    unit_cost: Mapped[float] = mapped_column(Float)
    lead_time_weeks: Mapped[int] = mapped_column(Integer)
    stock_on_hand: Mapped[int] = mapped_column(Integer)
    safety_stock: Mapped[int] = mapped_column(Integer)


class Contract(Base):
    """Framework contracts, NDAs and quality agreements."""

    __tablename__ = "contracts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    contract_type: Mapped[str] = mapped_column(String(20))  # framework | nda | quality_agreement
    title: Mapped[str] = mapped_column(String(200))
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))  # draft | pending | active | expired | terminated


class CallOffPlan(Base):
    __tablename__ = "call_off_plans"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    contract_id: Mapped[str] = _fk("contracts.id", index=False)
    article_id: Mapped[str] = _fk("articles.id", index=False)
    period: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    planned_qty: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_call_off_plans_account_period", "account_id", "period"),)


class CallOff(Base):
    __tablename__ = "call_offs"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    article_id: Mapped[str] = _fk("articles.id")
    plan_id: Mapped[str | None] = _fk("call_off_plans.id", nullable=True, index=False)
    call_off_date: Mapped[date] = mapped_column(Date)
    # YYYY-MM of call_off_date, stored so monthly rules (forecast deviation) group without date functions
    period: Mapped[str] = mapped_column(String(7))
    qty: Mapped[int] = mapped_column(Integer)
    __table_args__ = (
        Index("ix_call_offs_account_date", "account_id", "call_off_date"),
        Index("ix_call_offs_account_article_period", "account_id", "article_id", "period", "qty"),
    )


class Forecast(Base):
    __tablename__ = "forecasts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    article_id: Mapped[str] = _fk("articles.id", index=False)
    period: Mapped[str] = mapped_column(String(7))
    qty: Mapped[int] = mapped_column(Integer)
    __table_args__ = (Index("ix_forecasts_account_period", "account_id", "period"),)


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    order_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))  # open | delivered | invoiced | cancelled
    currency: Mapped[str] = mapped_column(String(3))


class OrderLine(Base):
    __tablename__ = "order_lines"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    order_id: Mapped[str] = _fk("orders.id")
    account_id: Mapped[str] = _fk("accounts.id")
    article_id: Mapped[str] = _fk("articles.id", index=False)
    qty: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[float] = mapped_column(Float)
    unit_cost: Mapped[float] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))  # open | delivered | cancelled


class Delivery(Base):
    __tablename__ = "deliveries"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    article_id: Mapped[str] = _fk("articles.id", index=False)
    order_line_id: Mapped[str | None] = _fk("order_lines.id", nullable=True, index=False)
    promised_date: Mapped[date] = mapped_column(Date)
    promised_qty: Mapped[int] = mapped_column(Integer)
    actual_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    actual_qty: Mapped[int | None] = mapped_column(Integer, nullable=True)
    mode: Mapped[str] = mapped_column(String(20))  # sea | rail | road | air | emergency_air
    __table_args__ = (Index("ix_deliveries_account_promised", "account_id", "promised_date"),)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    order_id: Mapped[str | None] = _fk("orders.id", nullable=True, index=False)
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)
    currency: Mapped[str] = mapped_column(String(3))
    dunning_level: Mapped[int] = mapped_column(Integer, default=0)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    invoice_id: Mapped[str] = _fk("invoices.id")
    account_id: Mapped[str] = _fk("accounts.id")
    paid_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[float] = mapped_column(Float)


class Escalation(Base):
    __tablename__ = "escalations"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    cause: Mapped[str] = mapped_column(String(500))
    documented: Mapped[bool] = mapped_column(Boolean, default=False)


class Interaction(Base):
    __tablename__ = "interactions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    contact_id: Mapped[str | None] = _fk("contacts.id", nullable=True, index=False)
    user_id: Mapped[str | None] = _fk("users.id", nullable=True, index=False)
    interaction_date: Mapped[date] = mapped_column(Date)
    interaction_type: Mapped[str] = mapped_column(String(20))  # visit | call | email | meeting
    qualified: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(2))
    note: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_interactions_account_date", "account_id", "interaction_date"),)


class Meeting(Base):
    __tablename__ = "meetings"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    planned_date: Mapped[date] = mapped_column(Date, index=True)
    title: Mapped[str] = mapped_column(String(200))
    attendees: Mapped[str] = mapped_column(String(500), default="")  # semicolon-separated names


class NpsResponse(Base):
    __tablename__ = "nps_responses"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    contact_id: Mapped[str | None] = _fk("contacts.id", nullable=True, index=False)
    survey_date: Mapped[date] = mapped_column(Date)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: surveyed, no answer


class Opportunity(Base):
    __tablename__ = "opportunities"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[str] = _fk("accounts.id")
    kind: Mapped[str] = mapped_column(String(20))  # cross_sell | up_sell
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # identified | qualified | won | lost
    value: Mapped[float] = mapped_column(Float)
    identified_on: Mapped[date] = mapped_column(Date)


class Job(Base):
    """A durable unit of background work (an NDA review, a nightly brief): stored before it is queued.

    Not CRM data: the importer never touches it. Times are UTC."""

    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(60))
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(12))  # queued | running | succeeded | failed
    payload: Mapped[str] = mapped_column(Text)  # JSON: the job's whole input
    principal: Mapped[str] = mapped_column(Text)  # JSON: who the job acts for
    acting_user_id: Mapped[str | None] = mapped_column(String(120), index=True, nullable=True)  # its user_id
    result: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    available_at: Mapped[datetime] = mapped_column(DateTime)  # not claimed before (retry backoff)
    lease_owner: Mapped[str | None] = mapped_column(String(120), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (Index("ix_jobs_status_available", "status", "available_at"),
                      Index("ix_jobs_kind_created", "kind", "created_at"))


class NdaReview(Base):
    """An uploaded NDA and its review: the upload is stored (and read) before the review is queued."""

    __tablename__ = "nda_reviews"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str | None] = mapped_column(String(64), ForeignKey("accounts.id"), nullable=True, index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    content_sha256: Mapped[str] = mapped_column(String(64), index=True)
    upload_path: Mapped[str] = mapped_column(String(500))  # the original bytes, under the data dir
    status: Mapped[str] = mapped_column(String(12))  # queued | running | done | failed
    verdict: Mapped[str | None] = mapped_column(String(12), nullable=True)  # accept | negotiate | escalate
    language: Mapped[str] = mapped_column(String(2))
    document: Mapped[str] = mapped_column(Text)  # JSON: the extracted text with its pages
    report: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON: agents.nda_review.schemas.NdaReport
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_by: Mapped[str] = mapped_column(String(120))  # the principal's user id
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Brief(Base):
    """A pre-meeting account brief (or a hand-over brief) for one account, date and reader language. Not CRM
    data. ``facts`` is the deterministic input (what the next brief is diffed against), ``input_hash`` its
    digest (an unchanged account is skipped), ``content`` the brief as written (prose, its source, usage)."""

    __tablename__ = "briefs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id"), index=True)
    brief_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(10))  # brief | handover
    language: Mapped[str] = mapped_column(String(2))
    input_hash: Mapped[str] = mapped_column(String(64))
    facts: Mapped[str] = mapped_column(Text)  # JSON: agents.account_brief.schemas.BriefFacts
    content: Mapped[str] = mapped_column(Text)  # JSON: agents.account_brief.schemas.Brief
    prose_source: Mapped[str] = mapped_column(String(10))  # llm | template | fallback
    model: Mapped[str | None] = mapped_column(String(120), nullable=True)
    prompt_version: Mapped[str] = mapped_column(String(20))
    prompt_tokens: Mapped[int] = mapped_column(Integer, default=0)
    completion_tokens: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    __table_args__ = (UniqueConstraint("account_id", "brief_date", "kind", "language", name="uq_briefs_key"),)


class MailDraft(Base):
    """A mail drafted for a rule breach (to the customer or internal), waiting for or past a person's decision.
    Not CRM data. Never sent by the service: an approved draft is exported as ``.eml``. ``trigger_key`` and
    ``audience`` make drafting idempotent; ``content`` is the draft as JSON (facts, text, checks)."""

    __tablename__ = "mail_drafts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    trigger_key: Mapped[str] = mapped_column(String(200))
    audience: Mapped[str] = mapped_column(String(10))  # customer | internal
    account_id: Mapped[str] = mapped_column(String(64), ForeignKey("accounts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # the trigger kind: call_off_rate, otif, dunning, ...
    status: Mapped[str] = mapped_column(String(12))  # drafting | in_review | approved | rejected
    language: Mapped[str] = mapped_column(String(2))
    recipient: Mapped[str] = mapped_column(String(200))  # the address it is for
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    content: Mapped[str] = mapped_column(Text, default="{}")
    thread_id: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(120), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    __table_args__ = (UniqueConstraint("trigger_key", "audience", name="uq_mail_drafts_trigger"),)


class DraftEvent(Base):
    """The log of a draft: drafted, edited, approved, rejected — who, when, what, with which model and prompt."""

    __tablename__ = "draft_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draft_id: Mapped[str] = mapped_column(String(36), ForeignKey("mail_drafts.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(12))  # drafted | edited | approved | rejected | refused
    detail: Mapped[str] = mapped_column(Text, default="{}")  # JSON: text, reason, failures
    model: Mapped[str | None] = mapped_column(String(120), nullable=True)
    prompt_version: Mapped[str | None] = mapped_column(String(20), nullable=True)



class ApiToken(Base):
    """A bearer token: only its SHA-256 is stored, the token itself is shown once when issued."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_tokens_hash"),)
    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public handle, used to revoke
    token_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = _fk("users.id")
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class DisabledUser(Base):
    """A user who may no longer sign in (kept apart from ``users`` so a CRM re-import cannot re-enable them)."""

    __tablename__ = "disabled_users"
    user_id: Mapped[str] = mapped_column(String(64), ForeignKey("users.id"), primary_key=True)
    disabled_at: Mapped[datetime] = mapped_column(DateTime)
    disabled_by: Mapped[str] = mapped_column(String(120))


class AuditEntry(Base):
    """Every AI output and every human decision; append-only (database triggers refuse UPDATE and DELETE)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(200))  # e.g. "nda_review:<id>", "draft:<id>", "token:<id>"
    account_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    model: Mapped[str | None] = mapped_column(String(120), nullable=True)
    prompt_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="{}")


# Import order: a table comes after every table it references.
TABLES_IN_IMPORT_ORDER: list[type[Base]] = [
    User, Account, Contact, Article, Contract, CallOffPlan, CallOff, Forecast, Order, OrderLine,
    Delivery, Invoice, Payment, Escalation, Interaction, Meeting, NpsResponse, Opportunity,
]


class ChatThread(Base):
    """A chat conversation and its owner; the turns themselves are the chat graph's checkpointed state. The
    owner is a user id, not a foreign key: a system principal or a removed user may own one too."""

    __tablename__ = "chat_threads"
    __table_args__ = (Index("ix_chat_threads_user_updated", "user_id", "updated_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(120))  # the first question, shortened
    turns: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
