"""Text out of documents, or a clear reason why not. Nothing here writes anywhere.

PDF (pypdf), DOCX (python-docx, with Word's automatic numbering rendered, so clause numbers survive),
plain text, Markdown and e-mail. Every failure of a parser becomes a :class:`RejectedDocument` with a reason
a person can act on (encrypted, scanned, broken, too large, too deep), never an HTTP 500.

Uploads from users are parsed by :func:`extract_sandboxed`: in a child process with a CPU-time and a memory
budget, so a decompression bomb, a PDF whose tiny pages all replay one enormous content stream, or a
recursion-deep page tree costs at most the budget and is rejected with the reason.
"""

from __future__ import annotations

import bisect
import email
import email.policy
import io
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from core.errors import InvalidInput

MAX_BYTES = 20 * 1024 * 1024
MAX_PAGES = 300
# What an upload may hold once read: about 200 pages. Embedding costs ~1 s per 2,000 characters on 2 cores,
# so this bounds the work one upload can cause (a 2 MB text file would otherwise take minutes).
MAX_UPLOAD_CHARS = 400_000
MAX_MIME_DEPTH = 20  # real mails nest a few levels (forwarded, signed); hundreds is an attack
MIN_TEXT_CHARS_PER_PAGE = 20  # below this on average the PDF is most likely a scan
SUPPORTED_SUFFIXES = (".pdf", ".docx", ".txt", ".md", ".eml")
PAGE_SEPARATOR = "\n\n"
SANDBOX_CPU_S = 20
NESTED = "the PDF's page tree or content is nested too deeply to read safely"
SANDBOX_MEMORY_MB = 1024
# What the reader may return (its text as JSON): 20 MB of plain text at most, whatever the file inflates to.
SANDBOX_OUTPUT_BYTES = 64 * 1024 * 1024
# The environment variables the reader child keeps (nothing secret: no API keys or database URLs).
SANDBOX_ENV = frozenset({"PATH", "LANG", "LC_ALL", "LC_CTYPE", "HOME", "TMPDIR", "PYTHONPATH", "VIRTUAL_ENV",
                         "PYTHONHASHSEED"})
GERMAN_HINTS = re.compile(r"\b(der|die|das|und|ist|nicht|mit|für|wir|sie|bei|vertrag|werden|oder)\b|[äöüß]",
                          re.IGNORECASE)
ENGLISH_HINTS = re.compile(r"\b(the|and|is|not|with|for|we|you|shall|agreement|of|any|or)\b", re.IGNORECASE)


_UNSAFE_NAME = re.compile(r"[^\w.\- ()]+")


def safe_file_name(name: str | None) -> str:
    """The base name of an uploaded file with only word characters, dots, dashes, spaces and brackets, no
    leading dot, at most 120 characters: it becomes part of stored ids and is shown in reports."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_NAME.sub("_", base).lstrip(". ").strip()
    stem, dot, suffix = cleaned.rpartition(".")
    if dot and len(suffix) <= 10:
        return f"{stem[:120 - len(suffix) - 1]}.{suffix}" if stem else f"upload.{suffix}"
    return cleaned[:120] or "upload"


class RejectedDocument(InvalidInput):
    """The document cannot be read; ``message`` says why."""


@dataclass(frozen=True)
class ExtractedDocument:
    text: str
    title: str
    doc_date: date | None
    pages: int = 1
    page_starts: tuple[int, ...] = (0,)  # offset in ``text`` where each page begins (PDF); (0,) otherwise
    source_format: str = "text"
    producer: str = ""  # the software that wrote the file, as the file says
    meta: dict[str, Any] = field(default_factory=dict)

    def page_of(self, offset: int) -> int | None:
        """1-based page of a character offset; None for formats without pages (DOCX, text)."""
        if self.source_format != "pdf":
            return None
        return bisect.bisect_right(self.page_starts, offset)

    @property
    def language(self) -> str:
        return guess_language(self.text)


def guess_language(text: str) -> str:
    """"de" or "en" by function words (enough to pick the report language and the fallback wording)."""
    return "de" if len(GERMAN_HINTS.findall(text)) >= len(ENGLISH_HINTS.findall(text)) else "en"


def _first_line(text: str, fallback: str) -> str:
    return next((line.strip("# ").strip() for line in text.splitlines() if line.strip()), fallback)[:200]


def _joined(page_texts: list[str]) -> tuple[str, tuple[int, ...]]:
    starts, parts, cursor = [], [], 0
    for page in page_texts:
        starts.append(cursor)
        parts.append(page)
        cursor += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(parts), tuple(starts) or (0,)


# --- PDF -------------------------------------------------------------------------------------------
def extract_pdf(data: bytes, name: str) -> ExtractedDocument:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError, LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise RejectedDocument(f"{name}: the PDF is encrypted; upload an unprotected copy")
        pages = len(reader.pages)
        if pages > MAX_PAGES:
            raise RejectedDocument(f"{name}: {pages} pages is over the limit of {MAX_PAGES}")
        page_texts = [(page.extract_text() or "").strip() for page in reader.pages]
        producer = str(reader.metadata.get("/Producer", "") or "") if reader.metadata else ""
    except RejectedDocument:
        raise
    except (DependencyError, FileNotDecryptedError):
        raise RejectedDocument(f"{name}: the PDF is encrypted; upload an unprotected copy") from None
    except LimitReachedError as exc:
        if "depth" in str(exc).lower():
            raise RejectedDocument(f"{name}: {NESTED}") from None
        raise RejectedDocument(f"{name}: the PDF holds a stream that decompresses beyond the safety limit "
                               "(a decompression bomb or a damaged file)") from None
    except RecursionError:
        raise RejectedDocument(f"{name}: {NESTED}") from None
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, AssertionError,
            ZeroDivisionError) as exc:
        raise RejectedDocument(f"{name}: not a readable PDF ({exc.__class__.__name__}: {str(exc)[:120]})") from None
    text, starts = _joined(page_texts)
    if len(text.strip()) < MIN_TEXT_CHARS_PER_PAGE * max(pages, 1):
        raise RejectedDocument(f"{name}: no text layer (scanned?); run OCR first")
    return ExtractedDocument(text=text, title=_first_line(text, name), doc_date=None, pages=pages,
                             page_starts=starts, source_format="pdf", producer=producer)


# --- DOCX ------------------------------------------------------------------------------------------
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _roman(number: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while number >= value:
            out, number = out + letters, number - value
    return out


def _format_number(number: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (number - 1) % 26)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(number)
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "bullet":
        return ""
    return str(number)


class _Numbering:
    """Renders Word's automatic list numbering ("1.", "§ 2", "3.1", "a)") the way Word shows it."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[str, str, int]]] = {}  # numId -> ilvl -> (fmt, text, start)
        self.counters: dict[str, list[int]] = {}
        try:
            root = document.part.numbering_part.element
        except (KeyError, NotImplementedError, AttributeError):
            return
        abstract = {}
        for node in root.iter(f"{_W}abstractNum"):
            levels = {}
            for lvl in node.iter(f"{_W}lvl"):
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                start = lvl.find(f"{_W}start")
                levels[int(lvl.get(f"{_W}ilvl", "0"))] = (
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                    int(start.get(f"{_W}val", "1")) if start is not None else 1)
            abstract[node.get(f"{_W}abstractNumId")] = levels
        for num in root.iter(f"{_W}num"):
            ref = num.find(f"{_W}abstractNumId")
            if ref is not None:
                self.levels[num.get(f"{_W}numId", "")] = abstract.get(ref.get(f"{_W}val"), {})

    @staticmethod
    def _num_pr(paragraph: Any) -> Any:
        """The paragraph's own list numbering, or its style's (a "List Number" style numbers by itself)."""
        props = paragraph._p.pPr
        if props is not None and props.numPr is not None:
            return props.numPr
        style = paragraph.style
        while style is not None:
            style_props = style.element.pPr
            if style_props is not None and style_props.numPr is not None:
                return style_props.numPr
            style = style.base_style
        return None

    def label(self, paragraph: Any) -> str:
        num_pr = self._num_pr(paragraph)
        if num_pr is None or num_pr.numId is None:
            return ""
        num_id = str(num_pr.numId.val)
        level = int(num_pr.ilvl.val) if num_pr.ilvl is not None else 0
        levels = self.levels.get(num_id, {})
        if level not in levels:
            return ""
        counters = self.counters.setdefault(num_id, [0] * 9)
        counters[level] += 1
        for deeper in range(level + 1, 9):
            counters[deeper] = 0
        text = levels[level][1]
        for index in range(level + 1):
            fmt, _, start = levels.get(index, ("decimal", "", 1))
            text = text.replace(f"%{index + 1}", _format_number(counters[index] + start - 1, fmt))
        return text.strip()


def extract_docx(data: bytes, name: str) -> ExtractedDocument:
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
        numbering = _Numbering(document)
        lines: list[str] = []
        for block in document.element.body.iterchildren():
            if block.tag == f"{_W}p":
                paragraph = Paragraph(block, document)
                label = numbering.label(paragraph)
                text = paragraph.text.strip()
                if text or label:
                    lines.append(f"{label} {text}".strip())
            elif block.tag == f"{_W}tbl":
                table = Table(block, document)
                lines.extend(" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows)
        producer = str(document.core_properties.last_modified_by or document.core_properties.author or "")
    except (PackageNotFoundError, zipfile.BadZipFile):
        raise RejectedDocument(f"{name}: not a Word document (.docx); if it is an old .doc file, save it as "
                               ".docx or PDF") from None
    except (KeyError, ValueError, AttributeError, TypeError, OSError, RecursionError) as exc:
        raise RejectedDocument(f"{name}: not a readable Word document ({exc.__class__.__name__})") from None
    text = "\n".join(lines).strip()
    if not text:
        raise RejectedDocument(f"{name}: the document has no text")
    return ExtractedDocument(text=text, title=_first_line(text, name), doc_date=None, source_format="docx",
                             producer=producer)


# --- mail and text ---------------------------------------------------------------------------------
def extract_eml(data: bytes, name: str) -> ExtractedDocument:
    try:
        return _read_eml(data, name)
    except (LookupError, UnicodeError, ValueError, TypeError, KeyError, AttributeError, IndexError,
            RecursionError) as exc:  # an unknown charset, a broken header, a part nested too deep
        raise RejectedDocument(f"{name}: not a readable e-mail ({exc.__class__.__name__})") from None


def _mime_depth(part: Any, depth: int = 0) -> int:
    if depth > MAX_MIME_DEPTH or not part.is_multipart():
        return depth
    return max((_mime_depth(sub, depth + 1) for sub in part.get_payload()), default=depth)


def _read_eml(data: bytes, name: str) -> ExtractedDocument:
    message = email.message_from_bytes(data, policy=email.policy.default)
    if not any(message.get(header) for header in ("From", "To", "Subject", "Date", "Message-ID")):
        raise RejectedDocument(f"{name}: not an e-mail (no From, To, Subject or Date header)")
    if _mime_depth(message) > MAX_MIME_DEPTH:
        raise RejectedDocument(f"{name}: the e-mail's parts are nested more than {MAX_MIME_DEPTH} deep")
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        raise RejectedDocument(f"{name}: the e-mail has no plain-text part")
    subject = str(message.get("Subject", "")).strip()[:500]
    sender = str(message.get("From", "")).strip()[:500]
    sent = None
    if message.get("Date"):
        try:
            sent = parsedate_to_datetime(str(message["Date"])).date()
        except (TypeError, ValueError):
            sent = None
    text = f"Subject: {subject}\nFrom: {sender}\n\n{body.get_content().strip()}"
    return ExtractedDocument(text=text, title=subject or name, doc_date=sent, source_format="eml")


def extract_text_file(data: bytes, name: str) -> ExtractedDocument:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RejectedDocument(f"{name}: not UTF-8 text") from None
    if "\x00" in text:
        raise RejectedDocument(f"{name}: binary content (NUL bytes), not text")
    if not text.strip():
        raise RejectedDocument(f"{name}: the file is empty")
    return ExtractedDocument(text=text.strip(), title=_first_line(text, name), doc_date=None)


def extract(data: bytes, name: str) -> ExtractedDocument:
    """Parse in this process (trusted input, e.g. a folder an operator ingests)."""
    suffix = Path(name).suffix.lower()
    if len(data) > MAX_BYTES:
        raise RejectedDocument(f"{name}: {len(data):,} bytes is over the limit of {MAX_BYTES:,}")
    if not data:
        raise RejectedDocument(f"{name}: the file is empty")
    if suffix == ".pdf":
        return extract_pdf(data, name)
    if suffix == ".docx":
        return extract_docx(data, name)
    if suffix == ".eml":
        return extract_eml(data, name)
    if suffix in (".txt", ".md"):
        return extract_text_file(data, name)
    raise RejectedDocument(f"{name}: unsupported file type {suffix or '(none)'}; supported: "
                           f"{', '.join(SUPPORTED_SUFFIXES)}")


# --- the sandbox -----------------------------------------------------------------------------------
def extract_sandboxed(data: bytes, name: str, *, cpu_s: float = SANDBOX_CPU_S,
                      memory_mb: int = SANDBOX_MEMORY_MB) -> ExtractedDocument:
    """Parse untrusted bytes in a child process limited to ``cpu_s`` CPU seconds and ``memory_mb`` of address
    space; a child that runs out of either is killed and the document rejected with the reason."""
    if len(data) > MAX_BYTES:
        raise RejectedDocument(f"{name}: {len(data):,} bytes is over the limit of {MAX_BYTES:,}")
    # the child gets what Python needs to start and its budgets, nothing else: no API keys, no database URL
    env = {key: value for key, value in os.environ.items() if key in SANDBOX_ENV}
    env.update(KAM_SANDBOX_CPU_S=str(int(cpu_s)), KAM_SANDBOX_MEMORY_MB=str(memory_mb),
               KAM_SANDBOX_OUTPUT_BYTES=str(SANDBOX_OUTPUT_BYTES))
    with tempfile.NamedTemporaryFile(suffix=Path(name).suffix) as handle, tempfile.TemporaryFile() as output:
        handle.write(data)
        handle.flush()
        try:
            done = subprocess.run([sys.executable, "-m", "knowledge.extract", handle.name, name], env=env,
                                  stdout=output, stderr=subprocess.PIPE, timeout=cpu_s * 2 + 10, check=False,
                                  cwd=Path(__file__).resolve().parents[1])
        except subprocess.TimeoutExpired:
            raise RejectedDocument(f"{name}: reading it took longer than the {cpu_s:.0f} s budget") from None
        output.seek(0)
        stdout = output.read(SANDBOX_OUTPUT_BYTES + 1)
    stderr = done.stderr.decode("utf-8", "replace")
    # at the cap the child's write fails (Python ignores SIGXFSZ, so it is EFBIG: "File too large")
    if len(stdout) >= SANDBOX_OUTPUT_BYTES or (done.returncode != 0 and "File too large" in stderr):
        raise RejectedDocument(f"{name}: its text is larger than the {SANDBOX_OUTPUT_BYTES:,} bytes the reader "
                               "may return")
    if done.returncode != 0 or not stdout:
        if done.returncode in (-9, -24, 137, 152):  # SIGKILL / SIGXCPU: the CPU budget ran out
            raise RejectedDocument(f"{name}: reading it took longer than the {cpu_s:.0f} s budget "
                                   "(a page that replays a huge content stream?)")
        if "MemoryError" in stderr:
            raise RejectedDocument(f"{name}: reading it needed more than the {memory_mb} MB memory budget")
        raise RejectedDocument(f"{name}: the reader stopped unexpectedly (exit {done.returncode})")
    answer = json.loads(stdout)
    if "rejected" in answer:
        raise RejectedDocument(answer["rejected"])
    answer["doc_date"] = date.fromisoformat(answer["doc_date"]) if answer["doc_date"] else None
    answer["page_starts"] = tuple(answer["page_starts"])
    return ExtractedDocument(**answer)


def _child(path: str, name: str) -> None:
    cpu = int(os.environ.get("KAM_SANDBOX_CPU_S", SANDBOX_CPU_S))
    memory = int(os.environ.get("KAM_SANDBOX_MEMORY_MB", SANDBOX_MEMORY_MB)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    output = int(os.environ.get("KAM_SANDBOX_OUTPUT_BYTES", SANDBOX_OUTPUT_BYTES))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output, output))  # stdout is a file: a larger answer is killed
    try:
        document = extract(Path(path).read_bytes(), name)
    except RejectedDocument as exc:
        print(json.dumps({"rejected": exc.message}))
        return
    except MemoryError:
        print(json.dumps({"rejected": f"{name}: reading it needed more than the "
                                      f"{memory // 1024 // 1024} MB memory budget"}))
        return
    body = {**document.__dict__, "doc_date": document.doc_date.isoformat() if document.doc_date else None}
    print(json.dumps(body, ensure_ascii=False))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
