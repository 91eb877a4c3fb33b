"""One open amount for every view of the debtor ledger, and one as-of date per run."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from policies import credit, receivables
from tests.factories import Crm

ROOT = Path(__file__).parents[1]


def test_receivables_credit_and_account_view_agree_as_of_any_date(crm: Crm, session: Session) -> None:
    account = crm.account()
    crm.invoice(account, date(2026, 9, 1), date(2026, 10, 1), 1000.0, paid=400.0, paid_on=date(2026, 10, 5))
    crm.invoice(account, date(2026, 10, 1), date(2026, 11, 1), 500.0, paid=500.0, paid_on=date(2026, 11, 20))
    crm.invoice(account, date(2026, 11, 10), date(2026, 12, 10), 250.0)
    expected = {date(2026, 9, 15): 1000.0, date(2026, 10, 10): 600.0 + 500.0, date(2026, 11, 15): 600 + 500 + 250,
                date(2026, 11, 26): 600.0 + 250.0}
    for as_of, open_total in expected.items():
        by_receivables = receivables.receivables_by_account(session, as_of=as_of)[account.id].total_open
        by_credit = credit.credit_position(session, account.id, as_of=as_of).open_receivables
        assert by_receivables == by_credit == open_total, as_of


def test_credit_honours_as_of(client: TestClient) -> None:
    """The base computed credit exposure as of today whatever the request said."""
    today = client.get("/accounts/A-00004/credit").json()
    earlier = client.get("/accounts/A-00004/credit", params={"as_of": "2025-06-30"}).json()
    assert earlier["as_of"] == "2025-06-30" and earlier["open_receivables"] != today["open_receivables"]
    detail = client.get("/accounts/A-00004", params={"as_of": "2025-06-30"}).json()
    assert round(sum(i["open_amount"] for i in detail["open_items"]["invoices"]), 2) == earlier["open_receivables"]
    listed = client.get("/receivables", params={"account_id": "A-00004", "as_of": "2025-06-30"}).json()
    assert listed[0]["total_open"] == earlier["open_receivables"]


def test_no_rule_defaults_its_reference_date_to_today() -> None:
    offenders = []
    for path in (ROOT / "policies").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "today":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
