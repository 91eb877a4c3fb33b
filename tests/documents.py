"""PDFs built to attack a reader, and the producers of real documents (from evals.documents)."""

from __future__ import annotations

import io
import os
import zlib

import pytest

from core.pdf import assemble_pdf
from evals.documents import (  # noqa: F401  (the tests use them from here)
    SOFFICE,
    docx_libreoffice,
    docx_python_docx,
    pdf_kam,
    pdf_libreoffice,
    pdf_reportlab,
)

needs_libreoffice = pytest.mark.skipif(
    SOFFICE is None and os.environ.get("KAM_REQUIRE_LIBREOFFICE") != "1",
    reason="LibreOffice not installed (scripts/test-deps.sh installs it)")


# --- hostile PDFs ------------------------------------------------------------------------------------
def _raw_pdf(objects: list[bytes], root: int = 1) -> bytes:
    return assemble_pdf(objects, root=root, version="1.7")


def _stream(data: bytes, *, flate: bool = False) -> bytes:
    head = b"<< /Length %d%s >>" % (len(data), b" /Filter /FlateDecode" if flate else b"")
    return head + b"\nstream\n" + data + b"\nendstream"


FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _page(parent: int, content: int, font: int) -> bytes:
    return (f"<< /Type /Page /Parent {parent} 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
            f"/Resources << /Font << /F1 {font} 0 R >> >> >>").encode()


def encrypted_pdf() -> bytes:
    """AES-256, as Acrobat writes it (the base answered HTTP 500: pypdf needed `cryptography`)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(io.BytesIO(pdf_kam("Geheimhaltungsvereinbarung\n§ 1 Zweck. Prüfung einer Lieferung.")))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def decompression_bomb_pdf(megabytes: int = 200) -> bytes:
    """One page whose 200 KB content stream inflates to 200 MB."""
    packer = zlib.compressobj(9)
    block = b"0 0 m " * 100_000
    chunks = [packer.compress(block) for _ in range(megabytes * 1024 * 1024 // len(block))]
    data = b"".join(chunks) + packer.flush()
    return _raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     _page(2, 4, 5), _stream(data, flate=True), FONT])


def deep_page_tree_pdf(depth: int = 3000) -> bytes:
    """Pages nodes nested 3,000 deep above a single page."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = level + 2
        parent = f"/Parent {number - 1} 0 R " if level else ""
        objects.append(f"<< /Type /Pages {parent}/Kids [{number + 1} 0 R] /Count 1 >>".encode())
    page, content, font = depth + 2, depth + 3, depth + 4
    objects.append(_page(page - 1, content, font))
    objects.append(_stream(b"BT /F1 12 Tf 72 720 Td (Deep) Tj ET"))
    objects.append(FONT)
    return _raw_pdf(objects)


def nested_content_pdf(depth: int = 20_000) -> bytes:
    """A content stream whose operand is an array nested 20,000 deep."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"[" * depth + b"(x)" + b"]" * depth + b" TJ ET"
    return _raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
                     _page(2, 4, 5), _stream(zlib.compress(content), flate=True), FONT])


def replayed_content_pdf(pages: int = 60, operations: int = 200_000) -> bytes:
    """60 tiny pages that all draw one 5 MB content stream: a 60 KB file that costs minutes to read."""
    content = b"BT /F1 1 Tf " + b"(x) Tj " * operations + b"ET"
    kids = " ".join(f"{i} 0 R" for i in range(3, 3 + pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    stream_id, font_id = 3 + pages, 4 + pages
    objects += [_page(2, stream_id, font_id) for _ in range(pages)]
    objects += [_stream(zlib.compress(content, 9), flate=True), FONT]
    return _raw_pdf(objects)


def scanned_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
