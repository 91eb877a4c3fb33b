"""One access policy (core.access): what each role sees through the API, the retriever and the CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from core import access
from core.access import Principal, principal_for_user
from core.db.session import get_engine
from core.errors import Forbidden, NotFound
from tests.auth import bearer

AS_OF = "2026-11-26"
LEGAL, KAM1 = "U-LEGAL-1", "U-KAM-001"


def test_principal_is_a_serialisable_value(demo_db: str) -> None:
    with Session(get_engine(demo_db)) as session:
        kam = principal_for_user(session, "U-KAM-001")
        legal = principal_for_user(session, "U-LEGAL-1")
    assert kam.role == "kam" and kam.account_ids == {f"A-{n:05d}" for n in range(1, 13, 2)}
    assert Principal.model_validate_json(kam.model_dump_json()) == kam
    assert legal.account_ids is None and access.document_types(legal) == {"contract"}
    system = Principal.system("nightly-briefs")
    assert system.user_id == "system:nightly-briefs" and access.has(system, "finance")


def test_the_policy_answers_for_every_role() -> None:
    kam = Principal(user_id="k", role="kam", account_ids=frozenset({"A-1"}))
    legal = Principal(user_id="l", role="legal", account_ids=None)
    assert access.can_see_account(kam, "A-1") and not access.can_see_account(kam, "A-2")
    assert access.narrow_accounts(kam, None) == ["A-1"] and access.narrow_accounts(legal, None) is None
    with pytest.raises(NotFound):
        access.narrow_accounts(kam, "A-2")
    with pytest.raises(Forbidden, match="finance"):
        access.require(legal, "finance")
    assert access.has(legal, "nda_review") and not access.has(legal, "rules")
    assert access.document_accounts(kam) == {"A-1", ""}


@pytest.mark.parametrize("path", ["/accounts/A-00002/credit", "/accounts/A-00002/kpis", "/accounts/A-00002/margins",
                                  "/accounts/A-00002/health", "/receivables", "/replenishment"])
def test_legal_gets_403_with_the_reason_on_finance_and_rules(client: TestClient, path: str) -> None:
    response = client.get(path, headers=bearer(LEGAL), params={"as_of": AS_OF})
    assert response.status_code == 403 and "legal may not see" in response.json()["detail"]


def test_legal_sees_the_account_and_its_contracts_but_not_contacts_or_finance(client: TestClient) -> None:
    detail = client.get("/accounts/A-00002", headers=bearer(LEGAL)).json()
    assert detail["contracts"] and detail["contacts"] is None and detail["open_items"] is None
    assert detail["kam_credit_limit"] is None
    assert set(detail["withheld"]) >= {"contacts", "articles", "open_items", "kam_credit_limit"}
    assert client.post("/credit-check", headers=bearer(LEGAL), json={"account_id": "A-00002"}).status_code == 403
    assert client.post("/price-check", headers=bearer(LEGAL),
                       json={"article_id": "A-00002-P1", "proposed_price": 1, "qty": 1}).status_code == 403


def test_kam_sees_everything_of_own_accounts_and_nothing_of_others(client: TestClient) -> None:
    own = client.get("/accounts/A-00001", headers=bearer(KAM1)).json()
    assert own["contacts"] and own["open_items"] is not None and own["withheld"] == []
    for path in ("/accounts/A-00002", "/accounts/A-00002/credit", "/accounts/A-00002/kpis"):
        assert client.get(path, headers=bearer(KAM1)).status_code == 404
    receivables = client.get("/receivables", headers=bearer(KAM1), params={"as_of": AS_OF}).json()
    assert receivables and {r["account_id"] for r in receivables} <= {f"A-{n:05d}" for n in range(1, 13, 2)}


def test_cli_acts_as_a_user_with_the_same_rules(demo_db: str) -> None:
    from api.cli import app

    runner = CliRunner()
    legal = runner.invoke(app, ["kpis", "--account", "A-00002", "--user", "U-LEGAL-1", "--as-of", AS_OF])
    assert legal.exit_code == 2 and "legal may not see" in legal.output
    other = runner.invoke(app, ["kpis", "--account", "A-00002", "--user", "U-KAM-001", "--as-of", AS_OF])
    assert other.exit_code == 2 and "not found" in other.output
    own = runner.invoke(app, ["kpis", "--json", "--user", "U-KAM-001", "--as-of", AS_OF])
    assert own.exit_code == 0 and '"A-00001"' in own.output and '"A-00002"' not in own.output
