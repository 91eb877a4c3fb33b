from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.auth import bearer

AS_OF = "2026-11-26"


def test_account_kpis_endpoint(client: TestClient) -> None:
    results = client.get("/accounts/A-00001/kpis", params={"as_of": AS_OF}).json()
    call_off = next(r for r in results if r["rule"] == "call_off_rate")
    assert call_off["status"] == "breach" and round(call_off["value"], 2) == 0.62
    assert call_off["policy_version"] and call_off["inputs"]["planned_qty"] > 0


def test_bad_period_is_a_clear_4xx(client: TestClient) -> None:
    response = client.get("/accounts/A-00001/kpis", params={"period": "last year"})
    assert response.status_code == 422 and "not understood" in response.json()["detail"]


def test_credit_margins_health(client: TestClient) -> None:
    position = client.get("/accounts/A-00003/credit").json()
    assert position["status"] == "breach" and position["needs_approval"] == "head_of_sales"
    assert position["alternatives"]
    margins = client.get("/accounts/A-00003/margins", params={"as_of": AS_OF}).json()
    assert margins[0]["rule"] == "account_margin" and len(margins) > 1
    health = client.get("/accounts/A-00005/health", params={"as_of": AS_OF}).json()
    assert health["status"] == "breach"
    assert any(r["rule"] == "escalations_open_days" for r in health["reasons"])


def test_price_and_credit_checks(client: TestClient) -> None:
    check = client.post("/price-check", json={"article_id": "A-00001-P1", "proposed_price": 0.01, "qty": 10}).json()
    assert check["status"] == "breach" and check["needs_approval"] == "head_of_sales"
    assert client.post("/price-check", json={"article_id": "NOPE", "proposed_price": 1, "qty": 1}).status_code == 404
    assert client.post("/price-check", json={"article_id": "A-00001-P1", "proposed_price": -1, "qty": 1}
                       ).status_code == 422
    order = client.post("/credit-check", json={"account_id": "A-00003", "order_value": 1000}).json()["order"]
    assert order["status"] == "breach"
    limit = client.post("/credit-check", json={"account_id": "A-00001", "proposed_limit": 1e12}).json()["limit"]
    assert limit["allowed_without_approval"] is False


def test_replenishment_and_receivables(client: TestClient) -> None:
    lines = client.get("/replenishment", params={"as_of": AS_OF}).json()
    assert lines and all(line["reorder"] for line in lines)
    assert [line["empty"] for line in lines] == sorted((line["empty"] for line in lines), reverse=True)
    open_items = client.get("/receivables", params={"account_id": "A-00004", "as_of": AS_OF}).json()
    assert any(inv["due_dunning_level"] == 2 and inv["consult_kam"] for inv in open_items[0]["invoices"])
    overdue = client.get("/receivables", params={"only_overdue": True, "as_of": AS_OF}).json()
    assert overdue[0]["account_id"] in ("A-00003", "A-00004") and all(a["overdue"] > 0 for a in overdue)
    assert [a["overdue"] for a in overdue] == sorted((a["overdue"] for a in overdue), reverse=True)


def test_rules_respect_account_visibility(client: TestClient) -> None:
    kam1 = bearer("U-KAM-001")
    assert client.get("/accounts/A-00002/kpis", headers=kam1).status_code == 404
    assert client.get("/receivables", params={"account_id": "A-00002"}, headers=kam1).status_code == 404
    own = client.get("/replenishment", params={"only_reorder": False}, headers=kam1).json()
    assert {line["account_id"] for line in own} <= {f"A-{n:05d}" for n in range(1, 13, 2)}
    assert client.post("/price-check", headers=kam1,
                       json={"article_id": "A-00002-P1", "proposed_price": 1, "qty": 1}).status_code == 404


def test_cli_kpis_table_and_json(demo_db: str) -> None:
    from api.cli import app

    runner = CliRunner()
    table = runner.invoke(app, ["kpis", "--account", "A-00002", "--as-of", AS_OF])
    assert table.exit_code == 0 and "otif" in table.output and "breach" in table.output
    as_json = runner.invoke(app, ["kpis", "--json", "--as-of", AS_OF])
    assert as_json.exit_code == 0 and '"A-00012"' in as_json.output
    missing = runner.invoke(app, ["kpis", "--account", "NOPE"])
    assert missing.exit_code == 2 and "not found" in missing.output
