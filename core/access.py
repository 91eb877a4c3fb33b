"""Who may see what: the one access policy that the API, the retriever, the CLI, jobs and agent tools ask.

A :class:`Principal` is built once per request, CLI command or job and passed on (into graphs too); it is a
plain serialisable value, never an ORM object. What a role may see:

| role | accounts | document types | CRM details (contacts, articles) | finance | KPIs and rules | NDA reviews |
|---|---|---|---|---|---|---|
| kam, inside_sales | own (owner or tandem partner) | all | yes | yes | yes | yes |
| legal | all | contracts only | no | no | no | yes |
| head_of_sales, admin | all | all | yes | yes | yes | yes |
| system (background runs) | all | all | yes | yes | yes | yes |

The audit log only admin reads.

An account the principal may not see answers like one that does not exist (no existence leak); a kind of
data the role may not see answers 403 with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import and_, or_, select, true
from sqlalchemy.orm import Session

from core.db import models
from core.errors import Forbidden, NotFound

Role = Literal["kam", "inside_sales", "legal", "head_of_sales", "admin", "system"]
# What a route, tool or job reads, beyond the account itself.
Capability = Literal["crm_details", "finance", "rules", "nda_review", "audit"]
DOC_TYPES: tuple[str, ...] = ("contract", "note", "mail", "document")

_PORTFOLIO_ROLES: frozenset[str] = frozenset({"kam", "inside_sales"})
_CAPABILITIES: dict[str, frozenset[str]] = {
    "kam": frozenset({"crm_details", "finance", "rules", "nda_review"}),
    "inside_sales": frozenset({"crm_details", "finance", "rules", "nda_review"}),
    "legal": frozenset({"nda_review"}),
    "head_of_sales": frozenset({"crm_details", "finance", "rules", "nda_review"}),
    "admin": frozenset({"crm_details", "finance", "rules", "nda_review", "audit"}),
    "system": frozenset({"crm_details", "finance", "rules", "nda_review"}),
}
_DOC_TYPES: dict[str, frozenset[str] | None] = {"legal": frozenset({"contract"})}
CAPABILITY_TEXT = {"crm_details": "contacts and articles", "finance": "finance data (credit, receivables, margins)",
                   "rules": "KPIs and rule results", "nda_review": "NDA reviews", "audit": "the audit log"}


class Principal(BaseModel):
    """The acting identity: a user, the local operator, or a named system run."""

    model_config = ConfigDict(frozen=True)

    user_id: str
    role: Role
    account_ids: frozenset[str] | None  # None: every account

    @classmethod
    def system(cls, name: str) -> Principal:
        """A background run (nightly briefs, job workers): named, so every action is attributable."""
        return cls(user_id=f"system:{name}", role="system", account_ids=None)

    @classmethod
    def local_operator(cls) -> Principal:
        """Someone on the machine itself: the CLI without --user (the API always needs a token)."""
        return cls(user_id="local-operator", role="admin", account_ids=None)


def principal_for_user(session: Session, user_id: str) -> Principal:
    """Look the user up and fix their account scope for the rest of the request or job."""
    user = session.get(models.User, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    role = user.role if user.role in _CAPABILITIES else "kam"  # an unknown role gets the narrowest scope
    if role not in _PORTFOLIO_ROLES:
        return Principal(user_id=user.id, role=role, account_ids=None)
    owned = session.execute(select(models.Account.id).where(
        (models.Account.owner_kam_id == user.id) | (models.Account.inside_sales_id == user.id))).scalars()
    return Principal(user_id=user.id, role=role, account_ids=frozenset(owned))


# --- the questions callers ask ------------------------------------------------------------------------
def escalation_manager(session: Session) -> models.User | None:
    """Who internal escalations go to when the tandem partner is not the one to act: the Head of Sales."""
    return session.execute(select(models.User).where(models.User.role == "head_of_sales")
                           .order_by(models.User.id)).scalars().first()


def can_see_account(principal: Principal, account_id: str) -> bool:
    return principal.account_ids is None or account_id in principal.account_ids


def has(principal: Principal, capability: Capability) -> bool:
    return capability in _CAPABILITIES[principal.role]


def require(principal: Principal, capability: Capability) -> None:
    if not has(principal, capability):
        raise Forbidden(f"role {principal.role} may not see {CAPABILITY_TEXT[capability]}")


def require_account(principal: Principal, account_id: str) -> None:
    """404 for an account outside the scope, the same answer as for one that does not exist."""
    if not can_see_account(principal, account_id):
        raise NotFound(f"account {account_id!r} not found")


def narrow_accounts(principal: Principal, account_id: str | None) -> list[str] | None:
    """The accounts a query may touch: the requested one (if visible) or the whole scope (None = all)."""
    if account_id is not None:
        require_account(principal, account_id)
        return [account_id]
    return None if principal.account_ids is None else sorted(principal.account_ids)


def document_types(principal: Principal) -> frozenset[str] | None:
    """Document types the principal may retrieve; None means all."""
    return _DOC_TYPES.get(principal.role)


def document_accounts(principal: Principal) -> frozenset[str] | None:
    """Accounts whose documents the principal may retrieve; documents tied to no account ("") go with them."""
    return None if principal.account_ids is None else principal.account_ids | {""}


def filter_visible(principal: Principal, account_ids: Iterable[str]) -> list[str]:
    return [a for a in account_ids if can_see_account(principal, a)]


_SEE_ALL_JOBS: frozenset[str] = frozenset({"head_of_sales", "admin", "system"})


def can_see_job(principal: Principal, owner: Principal) -> bool:
    """A job is visible to the principal it acts for, and to roles that see every account."""
    return owner.user_id == principal.user_id or principal.role in _SEE_ALL_JOBS


def jobs_acting_for(principal: Principal) -> str | None:
    """Whose jobs a list may show: the principal's own, or everyone's (None) for roles that see all."""
    return None if principal.role in _SEE_ALL_JOBS else principal.user_id


# --- NDA reviews ---------------------------------------------------------------------------------------
def can_see_nda_review(principal: Principal, account_id: str | None, created_by: str) -> bool:
    """An NDA review of an account goes with the account; one tied to no account with its author (and roles
    that see every account)."""
    if not has(principal, "nda_review"):
        return False
    if account_id is None:
        return created_by == principal.user_id or principal.account_ids is None
    return can_see_account(principal, account_id)


def nda_reviews_visible(principal: Principal) -> Any:
    """:func:`can_see_nda_review` as a SQL condition, so a list filters before its limit."""
    require(principal, "nda_review")
    review = models.NdaReview
    if principal.account_ids is None:
        return true()
    return or_(review.account_id.in_(sorted(principal.account_ids)),
               and_(review.account_id.is_(None), review.created_by == principal.user_id))


# --- writing documents ------------------------------------------------------------------------------------
def require_document_write(principal: Principal, account_id: str | None, doc_type: str | None) -> str | None:
    """May the principal add this document? A role writes only the document types it may read (legal:
    contracts), into accounts it may see; documents shared by every account only roles that see every
    account. Returns the document type to store (a role limited to one type gets that one)."""
    allowed = document_types(principal)
    if allowed is not None:
        if doc_type is None and len(allowed) == 1:
            doc_type = next(iter(allowed))
        if doc_type not in allowed:
            raise Forbidden(f"role {principal.role} may only add documents of type {', '.join(sorted(allowed))}")
    if account_id:
        require_account(principal, account_id)
    elif principal.account_ids is not None:
        raise Forbidden(f"role {principal.role} may add documents only to its own accounts; give account_id")
    return doc_type
