"""A corpus of hostile and broken uploads, generated: each must be refused with a clear 4xx within bounded
time and memory while the service keeps answering. Used by tests/test_hostile_uploads.py and
benchmarks/hostile_uploads.py."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator

from tests.documents import (
    FONT,
    _page,
    _raw_pdf,
    _stream,
    decompression_bomb_pdf,
    deep_page_tree_pdf,
    encrypted_pdf,
    nested_content_pdf,
    pdf_kam,
    replayed_content_pdf,
    scanned_pdf,
)

NDA_TEXT = ("Geheimhaltungsvereinbarung\n§ 1 Zweck. Die Parteien tauschen vertrauliche Informationen aus. "
            "§ 2 Laufzeit. Diese Vereinbarung gilt fünf Jahre.")


def _user_password_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.append(io.BytesIO(pdf_kam(NDA_TEXT)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-256")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _nested_dictionary_pdf(depth: int) -> bytes:
    nested = b"<< /A " * depth + b"1" + b" >>" * depth
    return _raw_pdf([b"<< /Type /Catalog /Pages 2 0 R /Extra " + nested + b" >>",
                     b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", _page(2, 4, 5),
                     _stream(b"BT /F1 12 Tf 72 720 Td (x) Tj ET"), FONT])


def _many_pages_pdf(pages: int) -> bytes:
    kids = " ".join(f"{i} 0 R" for i in range(3, 3 + pages))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode()]
    stream_id, font_id = 3 + pages, 4 + pages
    objects += [_page(2, stream_id, font_id) for _ in range(pages)]
    objects += [_stream(b"BT /F1 12 Tf 72 720 Td (Seite mit Text zum Lesen) Tj ET"), FONT]
    return _raw_pdf(objects)


def _docx(document_xml: bytes, *, extra: dict[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/'
                         'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                         'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                         'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                         '</Relationships>')
        archive.writestr("word/document.xml", document_xml)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


_W = b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'


def _docx_paragraphs(paragraphs: int, text: str = "Vertrauliche Information " * 8) -> bytes:
    body = b"".join(b"<w:p><w:r><w:t>" + text.encode() + b"</w:t></w:r></w:p>" for _ in range(paragraphs))
    return _docx(_W + body + b"</w:body></w:document>")


def _docx_bomb(megabytes: int) -> bytes:
    text = b"<w:p><w:r><w:t>" + b"a" * (megabytes * 1024 * 1024) + b"</w:t></w:r></w:p>"
    return _docx(_W + text + b"</w:body></w:document>")


def _docx_nested(depth: int) -> bytes:
    runs = b"<w:r>" * depth + b"<w:t>x</w:t>" + b"</w:r>" * depth
    return _docx(_W + b"<w:p>" + runs + b"</w:p></w:body></w:document>")


def _eml(headers: str, body: bytes) -> bytes:
    return headers.encode() + b"\r\n" + body


def _nested_eml(depth: int) -> bytes:
    parts = b"plain text at the bottom"
    for level in range(depth):
        boundary = f"b{level}".encode()
        parts = (b"Content-Type: multipart/mixed; boundary=" + boundary + b"\r\n\r\n--" + boundary + b"\r\n"
                 + parts + b"\r\n--" + boundary + b"--\r\n")
    return b"From: a@b.example\r\nSubject: nested\r\nMIME-Version: 1.0\r\n" + parts


def _encoded_word_eml(headers: int) -> bytes:
    word = "=?utf-8?q?" + "=C3=A4" * 40 + "?="
    lines = "".join(f"X-H{i}: {' '.join([word] * 20)}\r\n" for i in range(headers))
    subject = " ".join([word] * 2_000)
    return _eml(f"From: a@b.example\r\nSubject: {subject}\r\n{lines}Content-Type: text/plain\r\n", b"Hallo")


def corpus() -> Iterator[tuple[str, str, bytes]]:
    """(category, file name, bytes): at least 100 files, every one of which must be refused."""
    rng = random.Random(19)
    valid_pdf = pdf_kam(NDA_TEXT)
    yield "pdf-encrypted", "aes.pdf", encrypted_pdf()
    yield "pdf-encrypted", "user-password.pdf", _user_password_pdf()
    for megabytes in (20, 200, 1200):
        yield "pdf-bomb", f"bomb-{megabytes}mb.pdf", decompression_bomb_pdf(megabytes)
    for depth in (600, 3000, 20_000):
        yield "pdf-deep-tree", f"tree-{depth}.pdf", deep_page_tree_pdf(depth)
    for depth in (5_000, 20_000, 200_000):
        yield "pdf-nested-content", f"content-{depth}.pdf", nested_content_pdf(depth)
    for depth in (2_000, 50_000):
        yield "pdf-nested-dict", f"dict-{depth}.pdf", _nested_dictionary_pdf(depth)
    yield "pdf-replayed", "replayed.pdf", replayed_content_pdf()
    yield "pdf-scanned", "scan.pdf", scanned_pdf()
    for pages in (301, 3000):
        yield "pdf-many-pages", f"pages-{pages}.pdf", _many_pages_pdf(pages)
    for cut in range(1, 21):
        yield "pdf-truncated", f"truncated-{cut}.pdf", valid_pdf[: len(valid_pdf) * cut // 21]
    for n in range(10):
        yield "pdf-not-a-pdf", f"random-{n}.pdf", rng.randbytes(rng.randint(1, 50_000))
    yield "pdf-not-a-pdf", "header-only.pdf", b"%PDF-1.7\n"
    yield "pdf-not-a-pdf", "html.pdf", b"<html><body>Not a PDF</body></html>"
    yield "empty", "empty.pdf", b""
    yield "empty", "empty.docx", b""
    yield "empty", "empty.txt", b""
    yield "empty", "empty.eml", b""
    yield "docx-bomb", "bomb-300mb.docx", _docx_bomb(300)
    yield "docx-huge", "huge.docx", _docx_paragraphs(3_000)  # ~600,000 characters of text: over the cap
    for depth in (1_000, 100_000):
        yield "docx-nested", f"nested-{depth}.docx", _docx_nested(depth)
    yield "docx-broken", "not-a-zip.docx", b"PK\x03\x04 broken"
    yield "docx-broken", "word97.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + rng.randbytes(4000)
    yield "docx-broken", "no-document.docx", _docx(b"", extra={})[:200]
    yield "docx-broken", "bad-xml.docx", _docx(_W + b"<w:p><w:r><w:t>unclosed")
    yield "docx-broken", "empty-body.docx", _docx(_W + b"</w:body></w:document>")
    for cut in range(1, 11):
        good = _docx_paragraphs(5)
        yield "docx-truncated", f"truncated-{cut}.docx", good[: len(good) * cut // 11]
    yield "eml-charset", "charset.eml", _eml("From: a@b.example\r\nSubject: x\r\nContent-Type: text/plain; "
                                             "charset=no-such-charset\r\n", b"\xff\xfe Hallo")
    yield "eml-nested", "nested-deep.eml", _nested_eml(2_000)
    yield "eml-nested", "nested-200.eml", _nested_eml(200)
    yield "eml-headers", "encoded-words.eml", _encoded_word_eml(400)
    yield "eml-no-text", "html-only.eml", _eml("From: a@b.example\r\nContent-Type: text/html\r\n", b"<p>x</p>")
    yield "eml-no-text", "binary.eml", rng.randbytes(20_000)
    for n in range(8):
        yield "txt-encoding", f"latin1-{n}.txt", ("Müller Grüße " * (n + 1)).encode("latin-1")
    for n in range(4):
        yield "txt-encoding", f"utf16-{n}.txt", ("Grüße " * (n + 1)).encode("utf-16")
    yield "txt-too-long", "two-mb.txt", ("Lieferung geprüft. " * 110_000).encode()
    yield "txt-blank", "blank.txt", b" \n\t \n" * 1000
    for suffix in (".exe", ".html", ".zip", ".js", ""):
        yield "unsupported", f"file{suffix}", b"MZ\x90\x00" + rng.randbytes(100)
    for n in range(12):
        yield "pdf-garbled", f"garbled-{n}.pdf", _garble(valid_pdf, rng)


def _garble(data: bytes, rng: random.Random) -> bytes:
    """A valid PDF with random bytes overwritten after the header: the cross-reference table lies."""
    out = bytearray(data)
    for _ in range(max(1, len(out) // 20)):
        position = rng.randrange(9, len(out))
        out[position] = rng.randrange(256)
    return bytes(out)


