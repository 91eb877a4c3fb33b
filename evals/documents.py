"""Real documents made from text by several producers, for the evals and the tests.

Producers: kam's own minimal PDF writer, ReportLab, LibreOffice (text → DOCX → PDF, as an office user
would export a Word draft), python-docx (with typed clause numbers, or with Word's automatic numbering).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

from core.pdf import render_text_pdf

SOFFICE = shutil.which("soffice")


def paragraphs(text: str) -> tuple[str, list[str]]:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0], lines[1:]


# --- producers ---------------------------------------------------------------------------------------
def pdf_kam(text: str) -> bytes:
    title, body = paragraphs(text)
    return render_text_pdf(title, body)


def pdf_reportlab(text: str) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate

    title, body = paragraphs(text)
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    story = [Paragraph(_xml(title), styles["Title"])] + [Paragraph(_xml(p), styles["BodyText"]) for p in body]
    SimpleDocTemplate(out, pagesize=A4, title=title, author="legal").build(story)
    return out.getvalue()


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def docx_python_docx(text: str, *, auto_numbering: bool = False) -> bytes:
    """With ``auto_numbering`` the leading clause numbers ("1.", "§ 3") are dropped from the text and the
    paragraphs become a Word numbered list, the way lawyers' templates usually number clauses."""
    import re

    import docx

    title, body = paragraphs(text)
    document = docx.Document()
    document.core_properties.author = "Legal Department"
    document.add_heading(title, level=1)
    for line in body:
        match = re.match(r"^(?:§\s*\d+|\d+\.)\s+(?=[A-ZÄÖÜ])", line)
        if auto_numbering and match:
            document.add_paragraph(line[match.end():], style="List Number")
        else:
            document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _soffice(source: Path, target_format: str) -> bytes:
    assert SOFFICE, "LibreOffice is required"
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run([SOFFICE, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to",
                        target_format, "--outdir", str(source.parent), str(source)],
                       check=True, capture_output=True, timeout=180)
    return source.with_suffix("." + target_format.split(":")[0]).read_bytes()


def docx_libreoffice(text: str, workdir: Path) -> bytes:
    source = workdir / "draft.txt"
    source.write_text(text, encoding="utf-8")
    return _soffice(source, "docx:MS Word 2007 XML")


def pdf_libreoffice(text: str, workdir: Path) -> bytes:
    source = workdir / "draft.docx"
    source.write_bytes(docx_python_docx(text))
    return _soffice(source, "pdf")




FORMATS = ("pdf-kam", "pdf-reportlab", "pdf-libreoffice", "docx-python-docx", "docx-word-numbering",
           "docx-libreoffice", "txt")


def render(text: str, fmt: str, workdir: Path) -> tuple[bytes, str]:
    """The text as a file of the given format: (bytes, file name)."""
    if fmt == "pdf-kam":
        return pdf_kam(text), "nda.pdf"
    if fmt == "pdf-reportlab":
        return pdf_reportlab(text), "nda.pdf"
    if fmt == "pdf-libreoffice":
        return pdf_libreoffice(text, workdir), "nda.pdf"
    if fmt == "docx-python-docx":
        return docx_python_docx(text), "nda.docx"
    if fmt == "docx-word-numbering":
        return docx_python_docx(text, auto_numbering=True), "nda.docx"
    if fmt == "docx-libreoffice":
        return docx_libreoffice(text, workdir), "nda.docx"
    if fmt == "txt":
        return text.encode("utf-8"), "nda.txt"
    raise ValueError(f"unknown format {fmt!r}")
