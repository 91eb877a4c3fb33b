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
# A preamble shorter than this is a title ("Rahmenliefervertrag"): a chunk that carries no content, which a
# multilingual embedding nevertheless likes to rank first. It is folded into the first clause's chunk.
MIN_PREAMBLE_CHARS = 160

CLAUSE_START = re.compile(
    r"^(?P<number>§\s*\d+[a-z]?|(?i:Art(?:icle|ikel)?|Section|Clause|Ziffer|Abschnitt)\s+\d+(?:\.\d+)*"
    r"|\d{1,2}(?:\.\d{1,2})*\.)\s+(?:[–—-]\s+)?(?P<heading>[A-ZÄÖÜ„\"][^\n]*)",
    re.MULTILINE,
)
HEADING_END = re.compile(r"\.\s|\.$|:\s|$")
MAX_HEADING_CHARS = 120


def _heading(line: str) -> str:
    """The clause's title: up to its first full stop or colon (a numbered paragraph without a title gives
    the start of its first sentence)."""
    match = HEADING_END.search(line)
    heading = line[: match.start()] if match else line
    return heading.strip()[:MAX_HEADING_CHARS]


def _style(number: str) -> str:
    """How a clause number is written: "§", "ziffer", "article", … or "plain" (1., 2.3.)."""
    word = re.match(r"[^\d\s]+", number)
    return word.group(0).lower().rstrip(".") if word else "plain"


@dataclass(frozen=True)
class Clause:
    """A numbered clause (or the preamble before the first one) as offsets into the text."""

    number: str | None  # "§6", "7", "Article3"; None for the preamble
    heading: str
    start: int
    end: int


def clauses(text: str) -> list[Clause]:
    """The preamble and every numbered clause, whole (not split for embedding); [] if the text has fewer
    than two numbered clauses."""
    matches = list(CLAUSE_START.finditer(text))
    # one numbering style makes the clauses; lines numbered otherwise (a numbered list of the parties
    # before "§ 1", items inside a clause) belong to the clause they stand in
    styles = [_style(m["number"]) for m in matches]
    if styles:
        dominant = max(dict.fromkeys(styles), key=styles.count)
        matches = [m for m, style in zip(matches, styles, strict=True) if style == dominant]
    if len(matches) < 2:
        return []
    found: list[Clause] = []
    preamble_start, preamble_end = _trimmed(text, 0, matches[0].start())
    if preamble_end > preamble_start:
        found.append(Clause(None, "preamble", preamble_start, preamble_end))
    bounds = [m.start() for m in matches] + [len(text)]
    for match, (start, next_start) in zip(matches, pairwise(bounds), strict=True):
        start, end = _trimmed(text, start, next_start)
        found.append(Clause(_clause_key(match["number"]), _heading(match["heading"]), start, end))
    return found


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
    parts = clauses(text)
    if not parts:  # not a numbered contract: fall back to plain chunking
        return chunk_plain(doc_id, text)
    chunks: list[Chunk] = []
    used: set[str] = set()
    fold_from: int | None = None  # a title-only preamble is folded into the first clause's chunk
    for clause in parts:
        if clause.number is None:
            if clause.end - clause.start < MIN_PREAMBLE_CHARS:
                fold_from = clause.start
            else:  # parties and recitals: worth citing on their own
                chunks.append(Chunk(f"{doc_id}#preamble", doc_id, 0, text[clause.start:clause.end], clause.start,
                                    clause.end, None, "preamble"))
            continue
        number, heading = clause.number, clause.heading
        key = number
        while key in used:
            key += "'"
        used.add(key)
        start = clause.start if fold_from is None else fold_from
        fold_from = None
        spans = _split_long(text[start:clause.end], start)
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
