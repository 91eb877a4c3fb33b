"""The debtor ledger as of a date: what is still open on each invoice. Receivables, credit exposure and the
account view all read it from here, so they cannot disagree.

open amount = invoice amount − payments made up to ``as_of``, for invoices issued up to ``as_of``.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Subquery, func, select

from core.db import models as m

# Below a cent an invoice is settled: float sums of payments leave such remainders.
SETTLED_BELOW = 0.005


def open_amounts(as_of: date) -> Subquery:
    """One row per invoice issued up to ``as_of`` that is still open then: invoice_id, account_id, open_amount."""
    paid = (select(m.Payment.invoice_id, func.sum(m.Payment.amount).label("paid"))
            .where(m.Payment.paid_date <= as_of).group_by(m.Payment.invoice_id).subquery())
    open_amount = (m.Invoice.amount - func.coalesce(paid.c.paid, 0.0))
    return (select(m.Invoice.id.label("invoice_id"), m.Invoice.account_id.label("account_id"),
                   open_amount.label("open_amount"))
            .outerjoin(paid, paid.c.invoice_id == m.Invoice.id)
            .where(m.Invoice.issue_date <= as_of, open_amount > SETTLED_BELOW)
            .subquery("open_invoices"))
