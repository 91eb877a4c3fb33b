"""Structure-aware chunking with character offsets, so every citation points back to the exact place.

Contracts split on their numbered clauses (``§ 7 Haftung``, ``7. Liability``, ``Article 7``, ``Ziffer 7``); each
chunk keeps its clause number and heading. Notes and mails are one chunk unless long, then split on
paragraphs. A chunk is always an exact slice ``text[start:end]`` of the extracted document text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

MAX_CHUNK_CHARS = 1500

CLAUSE_START = re.compile(
    r"^(?P<number>§\s*\d+[a-z]?|(?:Art(?:icle|ikel)?|Section|Clause|Ziffer|Abschnitt)\s+\d+(?:\.\d+)*"
    r"|\d{1,2}(?:\.\d{1,2})*\.)\s+(?P<heading>[A-ZÄÖÜ][^\n]{1,120}?)(?:\.\s|\.$|:\s|$)",
    re.MULTILINE,
)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    seq: int
    text: str
    start: int
    end: int
    clause: str | None = None
    heading: str | None = None


def _clause_key(number: str) -> str:
    return re.sub(r"\s+", "", number).rstrip(".")


def _split_long(text: str, start: int, limit: int = MAX_CHUNK_CHARS) -> list[tuple[int, int]]:
    """(start, end) spans no longer than ``limit``, cut at paragraph, then sentence, then word boundaries."""
    spans, cursor, end_of_text = [], 0, len(text)
    while end_of_text - cursor > limit:
        window = text[cursor : cursor + limit]
        cut = max(window.rfind("\n\n"), window.rfind(". "), window.rfind("\n"))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = limit
        else:
            cut += 1
        spans.append((start + cursor, start + cursor + cut))
        cursor += cut
    spans.append((start + cursor, start + end_of_text))
    return spans


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def chunk_contract(doc_id: str, text: str) -> list[Chunk]:
    matches = list(CLAUSE_START.finditer(text))
    if len(matches) < 2:  # not a numbered contract: fall back to plain chunking
        return chunk_plain(doc_id, text)
    chunks: list[Chunk] = []
    used: set[str] = set()
    bounds = [(m.start(), m) for m in matches] + [(len(text), None)]
    preamble_start, preamble_end = _trimmed(text, 0, matches[0].start())
    if preamble_end - preamble_start > 0:
        chunks.append(Chunk(f"{doc_id}#preamble", doc_id, 0, text[preamble_start:preamble_end],
                            preamble_start, preamble_end, None, "preamble"))
    for (clause_start, match), (next_start, _) in pairwise(bounds):
        assert match is not None
        number = _clause_key(match["number"])
        key = number
        while key in used:
            key += "'"
        used.add(key)
        heading = match["heading"].strip()[:120]
        start, end = _trimmed(text, clause_start, next_start)
        spans = _split_long(text[start:end], start)
        for part, (s, e) in enumerate(spans, start=1):
            s, e = _trimmed(text, s, e)
            suffix = f"/{part}" if len(spans) > 1 else ""
            chunks.append(Chunk(f"{doc_id}#{key}{suffix}", doc_id, len(chunks), text[s:e], s, e, number, heading))
    return chunks


def chunk_plain(doc_id: str, text: str) -> list[Chunk]:
    start, end = _trimmed(text, 0, len(text))
    spans = _split_long(text[start:end], start)
    chunks: list[Chunk] = []
    for part, (s, e) in enumerate(spans, start=1):
        s, e = _trimmed(text, s, e)
        if e > s:
            chunk_id = doc_id if len(spans) == 1 else f"{doc_id}#part{part}"
            chunks.append(Chunk(chunk_id, doc_id, len(chunks), text[s:e], s, e))
    return chunks
