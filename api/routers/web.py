"""The web page: static files served by the service itself (no build step). The page holds no data; every
figure it shows comes from the API with the signed-in user's token."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse

from agents.nda_review.report import TEXTS as NDA_TEXTS
from core.errors import NotFound
from policies.labels import NDA_RULES, RULES, STATUSES

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
STATIC = {"app.js": "text/javascript", "app.css": "text/css"}

router = APIRouter(include_in_schema=False)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/app")


@router.get("/app")
def page() -> FileResponse:
    return FileResponse(WEB_DIR / "index.html", media_type="text/html", headers={"Cache-Control": "no-cache"})


@router.get("/app/static/{name}")
def static(name: str) -> FileResponse:
    if name not in STATIC:
        raise NotFound(f"no file {name!r}")
    return FileResponse(WEB_DIR / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})


@cache
def catalogue(language: Literal["de", "en"]) -> dict[str, Any]:
    """Everything the page says in one language: its own strings (``web/messages.json``), the rule names and
    statuses (``policies.labels``) and the NDA report's words, so a rule id never reaches the page raw."""
    index = 0 if language == "de" else 1
    ui: dict[str, str] = json.loads((WEB_DIR / "messages.json").read_text(encoding="utf-8"))[language]
    nda = NDA_TEXTS[language]
    rules = {rule: pair[index] for rule, pair in {**RULES, **NDA_RULES}.items()}
    return {"language": language, "ui": ui, "rules": rules,
            "statuses": {status: pair[index] for status, pair in STATUSES.items()},
            "nda": {"verdicts": nda["verdicts"], "severities": nda["severities"], "statuses": nda["statuses"]}}


@router.get("/app/messages/{language}.json")
def messages(language: Literal["de", "en"]) -> JSONResponse:
    return JSONResponse(catalogue(language), headers={"Cache-Control": "no-cache"})
