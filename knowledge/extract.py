"""Text out of documents, or a clear reason why not. Nothing here writes anywhere."""

from __future__ import annotations

import email
import email.policy
import io
from dataclasses import dataclass
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from core.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 300
MIN_TEXT_CHARS_PER_PAGE = 20  # below this on average the PDF is most likely a scan
SUPPORTED_SUFFIXES = (".pdf", ".txt", ".md", ".eml")


class RejectedDocument(InvalidInput):
    """The document cannot be ingested; ``message`` says why."""


@dataclass(frozen=True)
class ExtractedDocument:
    text: str
    title: str
    doc_date: date | None
    pages: int = 1


def extract_pdf(data: bytes, name: str) -> ExtractedDocument:
    if len(data) > MAX_BYTES:
        raise RejectedDocument(f"{name}: {len(data):,} bytes is over the limit of {MAX_BYTES:,}")
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise RejectedDocument(f"{name}: the PDF is encrypted; upload an unprotected copy")
        pages = len(reader.pages)
        if pages > MAX_PAGES:
            raise RejectedDocument(f"{name}: {pages} pages is over the limit of {MAX_PAGES}")
        texts = [page.extract_text() or "" for page in reader.pages]
    except RejectedDocument:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise RejectedDocument(f"{name}: not a readable PDF ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    text = "\n".join(texts).strip()
    if len(text) < MIN_TEXT_CHARS_PER_PAGE * max(pages, 1):
        raise RejectedDocument(f"{name}: no text layer (scanned?); run OCR first")
    title = next((line.strip() for line in text.splitlines() if line.strip()), name)
    return ExtractedDocument(text=text, title=title[:200], doc_date=None, pages=pages)


def extract_eml(data: bytes, name: str) -> ExtractedDocument:
    message = email.message_from_bytes(data, policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        raise RejectedDocument(f"{name}: the e-mail has no plain-text part")
    subject = str(message.get("Subject", "")).strip()
    sender = str(message.get("From", "")).strip()
    sent = None
    if message.get("Date"):
        try:
            sent = parsedate_to_datetime(str(message["Date"])).date()
        except (TypeError, ValueError):
            sent = None
    text = f"Subject: {subject}\nFrom: {sender}\n\n{body.get_content().strip()}"
    return ExtractedDocument(text=text, title=subject or name, doc_date=sent)


def extract_text_file(data: bytes, name: str) -> ExtractedDocument:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RejectedDocument(f"{name}: not UTF-8 text") from None
    if not text.strip():
        raise RejectedDocument(f"{name}: the file is empty")
    title = next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), name)
    return ExtractedDocument(text=text.strip(), title=title[:200], doc_date=None)


def extract(data: bytes, name: str) -> ExtractedDocument:
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_BYTES:
        raise RejectedDocument(f"{name}: {len(data):,} bytes is over the limit of {MAX_BYTES:,}")
    if suffix == ".pdf":
        return extract_pdf(data, name)
    if suffix == ".eml":
        return extract_eml(data, name)
    if suffix in (".txt", ".md"):
        return extract_text_file(data, name)
    raise RejectedDocument(f"{name}: unsupported file type {suffix or '(none)'}; supported: "
                           f"{', '.join(SUPPORTED_SUFFIXES)}")
