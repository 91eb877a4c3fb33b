"""Object-level authorisation (OWASP API #1): every route × every role × an own, a foreign and a missing object.

The routes are read from the app, so a route added without an entry here fails
``test_every_route_has_a_matrix_entry``. What each role may see comes from the platform's access policy
(core/access.py); this file writes it down independently, per route, and checks the app's answers against it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from core.db import models
from core.db.session import get_engine
from tests.auth import bearer

AS_OF = "2026-11-26"
OWN, FOREIGN, MISSING = "A-00001", "A-00002", "A-99999"  # U-KAM-001 and their tandem partner own the odd accounts
USERS = {"anonymous": None, "kam": "U-KAM-001", "inside_sales": "U-ISP-001", "legal": "U-LEGAL-1",
         "head_of_sales": "U-HOS-1", "admin": "U-ADMIN-1"}
# What each role may read beyond an account itself, as the issue states it: legal reads NDA reviews and
# contracts, not margins, credit, receivables or KPIs; only admin reads the audit log.
CAPABILITIES = {"kam": {"finance", "rules"}, "inside_sales": {"finance", "rules"}, "legal": set(),
                "head_of_sales": {"finance", "rules"}, "admin": {"finance", "rules", "audit"}}
PORTFOLIO = {"kam", "inside_sales"}
NDA = (Path(__file__).resolve().parents[1] / "evals/golden/nda/documents/nda-01.txt").read_bytes()
FOREIGN_IDS = re.compile(r"\bA-000(0[2468]|1[02])\b")  # the even accounts: U-KAM-002's


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    kind: str  # what the object is: account | draft | nda | job | record | trigger | article | none
    capability: str | None = None
    allowed: frozenset[int] = frozenset({200})
    request: Callable[[str, str], dict[str, Any]] = field(default=lambda role, which: {})


def _upload(role: str, which: str) -> dict[str, Any]:
    return {"files": {"file": (f"matrix-{role}-{which}.txt", f"Besuchsnotiz {role} {which}.".encode(), "text/plain")}}


ROUTES = [
    Route("GET", "/accounts", "none"),
    Route("GET", "/accounts/{account_id}", "account"),
    Route("GET", "/accounts/{account_id}/health", "account", "rules"),
    Route("GET", "/accounts/{account_id}/kpis", "account", "rules"),
    Route("GET", "/accounts/{account_id}/margins", "account", "finance"),
    Route("GET", "/accounts/{account_id}/credit", "account", "finance"),
    Route("GET", "/accounts/{account_id}/timeline", "account"),
    Route("GET", "/accounts/{account_id}/brief", "account", "finance", request=lambda r, w: {"params": {"lang": "de"}}),
    Route("GET", "/accounts/{account_id}/brief.html", "account", "finance",
          request=lambda r, w: {"params": {"lang": "de"}}),
    Route("POST", "/accounts/{account_id}/brief", "account", "finance", frozenset({202}),
          request=lambda r, w: {"params": {"llm": "false"}}),
    Route("GET", "/accounts/{account_id}/handover", "account", "finance"),
    Route("GET", "/briefs", "none", "finance"),
    Route("POST", "/credit-check", "account", "finance",
          request=lambda r, w: {"json": {"account_id": "{account_id}", "order_value": 1000}}),
    Route("POST", "/price-check", "article", "finance",
          request=lambda r, w: {"json": {"article_id": "{article_id}", "proposed_price": 10, "qty": 5}}),
    Route("GET", "/receivables", "account", "finance", request=lambda r, w: {"params": {"account_id": "{account_id}"}}),
    Route("GET", "/replenishment", "account", "rules",
          request=lambda r, w: {"params": {"account_id": "{account_id}"}}),
    Route("GET", "/search", "account",
          request=lambda r, w: {"params": {"q": "Lieferung", "account_id": "{account_id}"}}),
    Route("POST", "/documents", "account", None, frozenset({201}),
          request=lambda r, w: {**_upload(r, w), "data": {"account_id": "{account_id}",
                                                           **({"doc_type": "contract"} if r == "legal" else {})}}),
    Route("GET", "/escalations", "account", "rules", request=lambda r, w: {"params": {"account_id": "{account_id}"}}),
    Route("POST", "/escalations/{trigger_key}/draft", "trigger", "rules",
          request=lambda r, w: {"params": {"llm": "false"}, "json": {"audience": "customer"}}),
    Route("GET", "/drafts", "none", "rules"),
    Route("GET", "/drafts/{draft_id}", "draft", "rules"),
    Route("GET", "/drafts/{draft_id}.eml", "draft", "rules", frozenset({200, 409})),  # 409 until approved
    Route("POST", "/drafts/{draft_id}/decision", "draft", "rules", frozenset({200, 409}),  # 409 once decided
          request=lambda r, w: {"json": {"action": "reject", "reason": f"matrix {r}"}}),
    Route("POST", "/escalations/records/{escalation_id}/close", "record", "rules", frozenset({200, 409})),
    Route("GET", "/jobs", "none"),
    Route("GET", "/jobs/{job_id}", "job"),
    Route("POST", "/jobs/{job_id}/retry", "job", None, frozenset({200, 422})),  # 422: it has not failed
    Route("POST", "/nda-reviews", "account", None, frozenset({202}),
          request=lambda r, w: {"files": {"file": ("nda.txt", NDA, "text/plain")},
                                "data": {"account_id": "{account_id}", "llm": "off"}}),
    Route("GET", "/nda-reviews", "account", request=lambda r, w: {"params": {"account_id": "{account_id}"}}),
    Route("GET", "/nda-reviews/{review_id}", "nda"),
    Route("GET", "/nda-reviews/{review_id}/report.html", "nda", None, frozenset({200, 409})),  # 409: not reviewed yet
    Route("GET", "/audit", "none", "audit"),
    Route("GET", "/me", "none"),
    Route("GET", "/me/accounts", "none", "rules"),
    # the chat answers 200 whatever is asked: a foreign or missing account gets the same refusal in the answer
    # (asked by name: the thread's title repeats the question, and an id in it would read as a leak)
    Route("POST", "/chat", "chat", request=lambda r, w: {"json": {"message": "How is {account_name} doing?"}}),
    Route("GET", "/chat/threads", "none"),
    Route("POST", "/verify", "account", "finance",
          request=lambda r, w: {"json": {"account_ids": ["{account_id}"], "text": "The call-off rate is 62 %."}}),
    Route("GET", "/chat/threads/{thread_id}", "thread"),
]


def expected(route: Route, role: str, which: str) -> frozenset[int]:
    """The answers the policy allows: 401 without identity; 403 for a kind of data the role may not read;
    404 for an object the role may not see, the same as for one that does not exist."""
    if role == "anonymous":
        return frozenset({401})
    if route.kind in ("none", "chat"):
        visible = True
    elif which == "missing":
        visible = False
    elif route.kind == "thread":  # a chat thread is its owner's only (U-KAM-001's own)
        visible = role == "kam" and which == "own"
    elif route.kind == "job":  # a job is visible to whom it acts for (U-KAM-001's own) and to those who see all
        visible = role in ("head_of_sales", "admin") or (role == "kam" and which == "own")
    else:
        visible = role not in PORTFOLIO or which == "own"
    lacks = route.capability is not None and route.capability not in CAPABILITIES[role]
    if lacks and not visible:
        return frozenset({403, 404})  # either refusal leaks nothing
    if lacks:
        return frozenset({403})
    return route.allowed if visible else frozenset({404})


@pytest.fixture()
def matrix_client(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from api.main import create_app
    from core.settings import get_settings

    monkeypatch.setenv("KAM_JOB_WORKER", "false")  # queued jobs stay queued: the matrix sees stable objects
    monkeypatch.setenv("KAM_UPLOADS_PER_MINUTE", "1000")
    get_settings.cache_clear()
    with TestClient(create_app()) as client:
        yield client


def _objects(client: TestClient, demo_db: str) -> dict[str, dict[str, str]]:
    """An own (U-KAM-001's accounts), a foreign (U-KAM-002's) and a missing object of every kind."""
    from agents.account_brief import nodes, service
    from core.settings import get_settings

    objects: dict[str, dict[str, str]] = {"own": {"account_id": OWN, "article_id": f"{OWN}-P1",
                                                  "account_name": "Mercer Antriebstechnik"},
                                          "foreign": {"account_id": FOREIGN, "article_id": f"{FOREIGN}-P1",
                                                      "account_name": "Albrecht Strojírny"},
                                          "missing": {"account_id": MISSING, "article_id": f"{MISSING}-P1",
                                                      "account_name": "Nirgendwo Maschinenbau",
                                                      "draft_id": "no-such-draft", "review_id": "no-such-review",
                                                      "job_id": "no-such-job", "escalation_id": f"{MISSING}-E1",
                                                      "trigger_key": f"calloff_rate:{MISSING}:x",
                                                      "thread_id": "no-such-thread"}}
    admin = bearer(USERS["admin"])
    for which, owner, first in (("own", "U-KAM-001", 1), ("foreign", "U-KAM-002", 2)):
        review = client.post("/nda-reviews", headers=bearer(owner), files={"file": ("nda.txt", NDA, "text/plain")},
                             data={"account_id": objects[which]["account_id"], "llm": "off"}).json()
        objects[which].update(review_id=review["id"], job_id=review["job_id"])
        triggers = [t for n in range(first, 13, 2) for t in client.get(
            "/escalations", headers=admin, params={"account_id": f"A-{n:05d}", "as_of": AS_OF}).json()]
        key = triggers[0]["trigger"]["key"]
        draft = client.post(f"/escalations/{key}/draft", headers=admin, params={"llm": "false", "as_of": AS_OF},
                            json={"audience": "customer"})
        assert draft.status_code == 200, draft.text
        objects[which].update(trigger_key=key, draft_id=draft.json()["id"])
        thread = client.post("/chat", headers=bearer(owner), params={"as_of": AS_OF},
                             json={"message": f"How is {objects[which]['account_name']} doing?"})
        objects[which]["thread_id"] = thread.json()["thread_id"]
    with Session(get_engine(demo_db)) as session:
        session.add(models.Escalation(id=f"{FOREIGN}-E9", account_id=FOREIGN, opened_on=date(2026, 11, 1),
                                      closed_on=None, cause="matrix", documented=True))
        for account_id in (OWN, FOREIGN):
            facts = service.gathered_one(session, account_id, date.fromisoformat(AS_OF), get_settings().data_dir)
            service.store(session, nodes.template_brief(facts, None, "de", date.fromisoformat(AS_OF)), "test")
        session.commit()
    objects["own"]["escalation_id"], objects["foreign"]["escalation_id"] = "A-00005-E1", f"{FOREIGN}-E9"
    return objects


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**ids) if "{" in value else value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def test_every_route_has_a_matrix_entry(settings: Any) -> None:
    from api.main import create_app

    app_routes = {(method.upper(), path) for path, operations in create_app().openapi()["paths"].items()
                  for method in operations if path not in ("/healthz", "/readyz")}
    assert app_routes == {(r.method, r.path) for r in ROUTES}


def test_every_route_answers_every_role_as_the_policy_says(matrix_client: TestClient, demo_db: str) -> None:
    objects = _objects(matrix_client, demo_db)
    wrong, leaks, requests = [], [], 0
    for route in ROUTES:
        for role, user in USERS.items():
            for which in (("own",) if route.kind == "none" else ("own", "foreign", "missing")):
                ids = objects[which]
                spec = route.request(role, which)
                kwargs = {k: v for k, v in _fill(spec, ids).items() if k != "files"}
                if "files" in spec:
                    kwargs["files"] = spec["files"]
                params = {"as_of": AS_OF, **kwargs.pop("params", {})}
                headers = bearer(user) if user else {}
                response = matrix_client.request(route.method, route.path.format(**ids), headers=headers,
                                                 params=params, **kwargs)
                requests += 1
                if response.status_code not in expected(route, role, which):
                    wrong.append(f"{route.method} {route.path} as {role} on {which}: {response.status_code} "
                                 f"(expected {sorted(expected(route, role, which))}) {response.text[:120]}")
                if role in PORTFOLIO and response.status_code < 300 and FOREIGN_IDS.search(response.text):
                    leaks.append(f"{route.method} {route.path} as {role} on {which}")
    print(f"access matrix: {len(ROUTES)} routes × {len(USERS)} roles, {requests} requests")
    assert not wrong, "\n".join(wrong)
    assert not leaks, "\n".join(leaks)
