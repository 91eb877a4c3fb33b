"""Content support: how much of what a sentence says a note, mail or clause says too.

Words are stemmed (German and English Snowball) and mapped to the concepts of ``core.glossary`` so a German
note supports an English paraphrase; German compounds are split when both halves are known. Support is the
share of the sentence's content words found in the best window (one or two sentences) of the source; the
threshold was calibrated on the tuning part of ``evals/golden/claims``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from functools import cache

import Stemmer

from core.glossary import CONCEPTS

SUPPORT_THRESHOLD = 0.6
SHORT_PASSAGE = 400  # characters: a note this short reports one conversation, read as one window
STOPWORDS = frozenset("""
a an the and or but if of to in on at by for from with without as is are was were be been being it its this that
these those there their they them he she his her we our us you your i me my not no so than then too very can could
would should will shall may might must do does did done has have had having which who whom whose what when where
why how all any both each few more most other some such only own same just also into over under about after before
between through during above below up down out off again further once here per via yet still even much many
anything something everything nothing etwas alles nichts early late indem wobei dabei whereby
der die das den dem des ein eine einen einem einer eines und oder aber wenn als ist sind war waren sein gewesen es
sie er wir ihr ihm ihn ihnen uns mir mich dir dich nicht kein keine keinen noch nur auch sehr so dass daß mit von
vom zu zum zur für auf an am im in bei beim aus nach vor über unter um durch gegen ohne seit bis wie was wer wo
warum hat haben hatte hatten wird werden wurde wurden kann können konnte soll sollen muss müssen darf dürfen man
dieser diese dieses diesen diesem jeder jede jedes alle allem allen aller sich laut
account accounts kunde kunden customer customers
says said say saying stated states state told tell cited citing cites mentions mentioned reports reported wrote
writes noted notes note record records entry sagte sagt gesagt schrieb schreibt erwähnt erwähnte berichtet
berichtete vermerkt notiz notizen eintrag crm mail e-mail email described beschrieben lautet reads heißt
ends endet begins beginnt
""".split())
WORD = re.compile(r"[A-Za-zÄÖÜäöüß][A-Za-zÄÖÜäöüß'-]*")
WINDOW = re.compile(r"(?<=[.!?;])\s+")


@cache
def _stemmers() -> tuple[Stemmer.Stemmer, Stemmer.Stemmer]:
    return Stemmer.Stemmer("german"), Stemmer.Stemmer("english")


def _fold(word: str) -> str:
    return word.lower().replace("ä", "a").replace("ö", "o").replace("ü", "u").replace("ß", "ss")


def _stem(word: str) -> str:
    german, english = _stemmers()
    stem = _fold(german.stemWord(english.stemWord(word)))
    return stem[2:] if stem.startswith("ge") and len(stem) > 6 else stem  # a participle's "ge-"


@cache
def _glossary() -> dict[str, frozenset[str]]:
    """Word (lower case, umlauts folded) → the concepts it belongs to: the German and the English word for one
    thing meet. Looked up by the word as written, not by its stem: stems of the two languages collide
    ("Termin" and "terminate" share one)."""
    out: dict[str, set[str]] = {}
    for number, line in enumerate(CONCEPTS):
        for word in line.lower().split():
            out.setdefault(_fold(word), set()).add(f"#{number}")
    return {word: frozenset(ids) for word, ids in out.items()}


@cache
def _concepts_of(word: str) -> frozenset[str]:
    """The concepts of a word as written, or of a listed word it inflects (at most two letters apart:
    "terminates" is "terminate", "Termin" is not)."""
    glossary = _glossary()
    folded = _fold(word)
    if folded in glossary:
        return glossary[folded]
    found: set[str] = set()
    for listed, ids in glossary.items():
        short, long_ = sorted((listed, folded), key=len)
        if len(short) >= 5 and long_.startswith(short) and len(long_) - len(short) <= 2:
            found |= ids
    if not found and folded.startswith("ge") and len(folded) > 6:
        return _concepts_of(folded[2:])  # a participle: "gefordert" is "fordert"
    return frozenset(found)


@cache
def _meanings(word: str) -> tuple[frozenset[str], ...]:
    """What a word means: its concepts, or its stem; a German compound both halves ("Energiekosten")."""
    if concepts := _concepts_of(word):
        return (concepts,)
    if len(word) >= 9:  # the best split: both halves known, else the tail ("…kosten"), which carries the meaning
        best: tuple[int, tuple[frozenset[str], ...]] = (1, ())
        for cut in range(4, len(word) - 3):
            head, tail = word[:cut], word[cut:]
            head_concepts = _concepts_of(head) or (_concepts_of(head[:-1]) if head.endswith("s") else frozenset())
            tail_concepts = _concepts_of(tail)
            score = 2 * bool(tail_concepts) + bool(head_concepts)
            if score > best[0]:
                best = (score, (head_concepts or frozenset({_stem(head)}), tail_concepts or frozenset({_stem(tail)})))
        if best[1]:
            return best[1]
    return (frozenset({_stem(word)}),)


def content_words(text: str) -> list[frozenset[str]]:
    """The text's content words, each as what it means (its concepts, or its stem)."""
    out: list[frozenset[str]] = []
    for raw in WORD.findall(text):
        word = raw.lower().strip("'-")
        if len(word) < 3 or word in STOPWORDS:
            continue
        for part in word.split("-"):
            if len(part) >= 3 and part not in STOPWORDS:
                out += list(_meanings(part))
    return list(dict.fromkeys(out))


def content_stems(text: str) -> set[str]:
    """Every stem and concept the text's content words carry (a listed word keeps its stem too: "open" is a
    concept, "opened" only a stem)."""
    stems = {_stem(part) for raw in WORD.findall(text) for part in raw.lower().strip("'-").split("-") if len(part) >= 3}
    return {token for meaning in content_words(text) for token in meaning} | stems


def _matches(meaning: frozenset[str], known: set[str]) -> bool:
    if meaning & known:
        return True
    # inflections the stemmer leaves apart ("Kündigung" / "kündigen"): a shared start of five letters
    return any(not stem.startswith("#") and len(stem) >= 5 and any(
        len(k) >= 5 and k[:5] == stem[:5] and (k.startswith(stem) or stem.startswith(k)) for k in known)
        for stem in meaning)


def windows(passage: str, *, whole: bool = True) -> list[str]:
    """The passage's sentences and each pair of neighbours; a short passage (a note) also as a whole."""
    pieces = [p for p in WINDOW.split(passage) if p.strip()] or [passage]
    entire = [passage] if whole and len(pieces) > 2 and len(passage) <= SHORT_PASSAGE else []
    return pieces + [f"{a} {b}" for a, b in itertools.pairwise(pieces)] + entire


def support(claim: str, passage: str, *, ignore: Iterable[str] = ()) -> tuple[float, str]:
    """How much of the claim the passage says (0–1), and the window that says most of it."""
    ignored = set(content_words(" ".join(ignore)))
    wanted = [m for m in content_words(claim) if m not in ignored]
    if not wanted:
        return 1.0, passage
    # what the claim denies ("eine Zusage wurde nicht gemacht") is supported by a denial anywhere in the passage
    denied, passage_denied = negated_stems(claim), negated_stems(passage)
    anywhere = [m for m in wanted if m & denied and _matches(m, passage_denied)]
    best, where = 0.0, passage
    for window in windows(passage):
        have = content_stems(window)
        score = sum(m in anywhere or _matches(m, have) for m in wanted) / len(wanted)
        if score > best:
            best, where = score, window
    return best, where


def says(text: str, words: Iterable[str]) -> list[str]:
    """The words the text does not say (by stem and concept)."""
    have = content_stems(text)
    return [w for w in words if not all(_matches(m, have) for m in content_words(w))]


_NEGATOR = re.compile(r"(?<![\w-])(?:not|no|never|none|nothing|neither|nor|without|\w+n't|cannot|nicht|kein\w*|nie|"
                      r"niemals|ohne|weder|nichts)(?![\w-])", re.IGNORECASE)


def _negated_spans(text: str) -> list[str]:
    """The words a negation applies to: the four after "not"/"kein"/"nothing", and for a German "nicht" also
    the three before it ("eine Zusage wurde nicht gemacht", "erreicht das Ziel nicht")."""
    spans = []
    for piece in re.split(r"[.;,:]", text):
        for match in _NEGATOR.finditer(piece):
            spans.append(" ".join(piece[match.end():].split()[:4]))
            if match.group(0).lower() in ("nicht", "nie", "nichts"):
                spans.append(" ".join(piece[:match.start()].split()[-3:]))
    return spans


def negated_stems(text: str) -> set[str]:
    return {token for span in _negated_spans(text) for token in content_stems(span)}


def positive_stems(text: str) -> set[str]:
    """The content words the text states without a negation."""
    rest = text
    for span in _negated_spans(text):
        rest = rest.replace(span, " ")
    return content_stems(_NEGATOR.sub(" ", rest))
