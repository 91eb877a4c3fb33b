"""The web page: static files served by the service itself (no build step). The page holds no data; every
figure it shows comes from the API with the signed-in user's token."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from core.errors import NotFound

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
