"""A minimal text-PDF writer (Helvetica, WinAnsi), so demo contracts and test fixtures are real PDFs.

Only what we need: wrapped paragraphs over as many A4 pages as it takes. pypdf reads the text back,
umlauts included.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PAGE_W, PAGE_H, MARGIN, LEADING, FONT_SIZE = 595, 842, 56, 14, 10
LINES_PER_PAGE = (PAGE_H - 2 * MARGIN) // LEADING
WRAP = 95


def _escape(line: str) -> bytes:
    encoded = line.encode("cp1252", errors="replace")
    return encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")


def _lines(title: str, paragraphs: list[str]) -> list[str]:
    lines = [title, ""]
    for paragraph in paragraphs:
        lines.extend(textwrap.wrap(paragraph, WRAP) or [""])
        lines.append("")
    return lines


def render_text_pdf(title: str, paragraphs: list[str]) -> bytes:
    lines = _lines(title, paragraphs)
    pages = [lines[i : i + LINES_PER_PAGE] for i in range(0, len(lines), LINES_PER_PAGE)] or [[]]
    objects: list[bytes] = []  # object n is objects[n - 1]
    font_id, pages_id = 1, 2
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    objects.append(b"")  # pages tree, filled in below
    page_ids = []
    for page_lines in pages:
        stream = [b"BT", f"/F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {PAGE_H - MARGIN} Td".encode()]
        for line in page_lines:
            stream.append(b"(" + _escape(line) + b") Tj T*")
        stream.append(b"ET")
        content = b"\n".join(stream)
        objects.append(b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream")
        content_id = len(objects)
        objects.append(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
                       f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>".encode())
        page_ids.append(len(objects))
    kids = " ".join(f"{i} 0 R" for i in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode()
    objects.append(f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode())
    return assemble_pdf(objects, root=len(objects))


def assemble_pdf(objects: list[bytes], *, root: int, version: str = "1.4") -> bytes:
    """A PDF file from its numbered objects (1, 2, …) with a cross-reference table and a trailer."""
    out = bytearray(f"%PDF-{version}\n".encode() + b"%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root {root} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write_text_pdf(path: Path, title: str, paragraphs: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_text_pdf(title, paragraphs))
    return path
