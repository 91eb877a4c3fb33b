from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.deps import LlmGatewayDep
from tests.auth import bearer, signed_in


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client: TestClient) -> None:
    response = client.get("/readyz")
    body = response.json()
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["llm"]["ok"] is False  # autostart is off in tests and no endpoint is configured
    assert "reason" in body["checks"]["llm"]
    assert response.status_code == 503


def test_readyz_tells_an_anonymous_caller_only_ready_or_not(client: TestClient) -> None:
    anonymous = client.get("/readyz", headers={"Authorization": ""})
    assert anonymous.status_code == 503 and anonymous.json() == {"status": "not ready", "checks": None}
    assert client.get("/readyz", headers={"Authorization": "Bearer kam_wrong"}).status_code == 401


@pytest.mark.parametrize("path", ["/app", "/app/static/app.js", "/accounts", "/healthz", "/nowhere"])
def test_every_response_carries_the_security_headers(client: TestClient, path: str) -> None:
    headers = client.get(path).headers
    policy = headers["content-security-policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"


def test_readyz_ready_with_a_healthy_llm_endpoint(demo_db: str, monkeypatch: pytest.MonkeyPatch,
                                                  llm_stub_url: str) -> None:
    from api.main import create_app
    from core.settings import get_settings

    monkeypatch.setenv("KAM_LLM_BASE_URL", llm_stub_url)
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        signed_in(client)
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()


def test_account_list_and_detail(client: TestClient) -> None:
    page = client.get("/accounts", params={"limit": 5}).json()
    assert page["total"] == 12 and len(page["items"]) == 5
    detail = client.get("/accounts/A-00004").json()
    assert detail["contacts"] and detail["articles"] and detail["contracts"]
    assert any(inv["dunning_level"] == 2 for inv in detail["open_items"]["invoices"])


def test_unknown_account_is_404_with_reason(client: TestClient) -> None:
    response = client.get("/accounts/NOPE")
    assert response.status_code == 404 and "NOPE" in response.json()["detail"]


def test_bad_query_is_422(client: TestClient) -> None:
    assert client.get("/accounts", params={"limit": 0}).status_code == 422
    assert client.get("/accounts", params={"segment": "Z"}).status_code == 422


def test_kam_sees_only_own_accounts(client: TestClient) -> None:
    own = client.get("/accounts", headers=bearer("U-ISP-001")).json()
    assert own["total"] == 6  # two KAM tandems split the 12 demo accounts
    assert {a["owner_kam_id"] for a in own["items"]} == {"U-KAM-001"}
    assert client.get("/accounts/A-00001", headers=bearer("U-KAM-001")).status_code == 200
    assert client.get("/accounts/A-00002", headers=bearer("U-KAM-001")).status_code == 404
    assert client.get("/accounts/A-00002", headers=bearer("U-HOS-1")).status_code == 200


def _probe(gateway: LlmGatewayDep) -> dict[str, str]:
    return {"model": gateway.model_name, "mode": gateway.structured_mode}


def test_llm_gateway_dependency(demo_db: str, monkeypatch: pytest.MonkeyPatch, llm_stub_url: str) -> None:
    from api.main import create_app
    from core.settings import get_settings

    app = create_app()  # autostart off, no endpoint configured
    app.get("/probe")(_probe)
    with TestClient(app) as client:
        signed_in(client)
        response = client.get("/probe")
    assert response.status_code == 503 and "KAM_LLM_BASE_URL" in response.json()["detail"]

    monkeypatch.setenv("KAM_LLM_BASE_URL", llm_stub_url)
    monkeypatch.setenv("KAM_LLM_MODEL", "gpt-test")
    get_settings.cache_clear()
    app = create_app()
    app.get("/probe")(_probe)
    with TestClient(app) as client:
        signed_in(client)
        assert client.get("/probe").json() == {"model": "gpt-test", "mode": "json_schema"}
