"""Sentences of model text, each with the ``[n]`` markers it carries."""

from __future__ import annotations

import re
from dataclasses import dataclass

MARKER = re.compile(r"\s*\[(\d{1,2}(?:\s*[,;]\s*\d{1,2})*)\]")
# a full stop after these ends no sentence: "z. B.", "Nr. 5", "Dr. Koch", "S.p.A.", "4 Nov. 2026", "62.0 %"
ABBREVIATION = re.compile(
    r"(?:\b(?:z|u|d|s|o|v|e|i|bzw|ca|Nr|Dr|Hr|Fr|Mr|Mrs|Ms|St|vs|ggf|inkl|exkl|zzgl|evtl|gem|lt|max|min|Abs|Art|"
    r"Ziff|Sec|No|Co|Corp|Inc|Ltd|approx|incl|resp|Jan|Feb|Mär|Apr|Jun|Jul|Aug|Sep|Sept|Okt|Oct|Nov|Dez|Dec|"
    r"S\.p|S\.r|s\.r|a|o\.o)|\b[A-Z])\.$")
# "30. November 2026": a German day's full stop before a month name ends no sentence
DAY_BEFORE_MONTH = re.compile(r"\d\.$")
MONTH_AFTER = re.compile(r"^\s+(?:Jan|Feb|Mär|Apr|Mai|Jun|Jul|Aug|Sep|Okt|Nov|Dez)[a-zä]*\b")
SENTENCE_END = re.compile(r"(?<=[.!?])(?P<quote>[”“»\"])?(?:\s*\[\d{1,2}(?:\s*[,;]\s*\d{1,2})*\])*(?=\s+|$)|\n+")
BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass(frozen=True)
class Sentence:
    text: str  # without its markers
    cites: tuple[str, ...]


def split_sentences(text: str) -> list[Sentence]:
    """Sentences with the markers each carries (a marker after the full stop belongs to the sentence before
    it); each line is at least one sentence."""
    out: list[Sentence] = []
    start = 0
    for match in SENTENCE_END.finditer(text):
        before = text[max(0, match.start() - 12):match.start()]
        if "\n" not in match.group(0) and (ABBREVIATION.search(before) or (
                DAY_BEFORE_MONTH.search(before) and MONTH_AFTER.match(text[match.end():])) or
                _inside_quote(text[start:match.start() + len(match.group("quote") or "")])):
            continue  # an abbreviation's or a date's full stop, or one inside a quoted note
        piece = text[start:match.end()]
        if piece.strip():
            out.append(sentence(piece))
        start = match.end()
    if text[start:].strip():
        out.append(sentence(text[start:]))
    return [s for s in out if s.text]


CLOSING = {"«": "»", "„": "“", "“": "”", '"': '"', "»": "«"}


def _inside_quote(text: str) -> bool:
    """Is a quotation still open at the end of the text ("note: «Call with Laura Brown. Payment promised.»" is
    one sentence with the note it quotes)?"""
    open_: list[str] = []
    for char in text:
        if open_ and char == open_[-1]:
            open_.pop()
        elif char in CLOSING and not (char == "»" and not open_):
            open_.append(CLOSING[char])
    return bool(open_)


def sentence(piece: str, cites: tuple[str, ...] = ()) -> Sentence:
    """One sentence: its markers taken out (added to ``cites``), a list item's bullet dropped."""
    marked = tuple(n.strip() for group in MARKER.findall(piece) for n in re.split(r"[,;]", group))
    body = BULLET.sub("", MARKER.sub("", piece).strip())
    return Sentence(body, tuple(dict.fromkeys((*cites, *marked))))
