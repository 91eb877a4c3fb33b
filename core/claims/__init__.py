"""The claim checker: what model text *claims*, checked sentence by sentence against the sources it rests on.

Every agent that lets a model write prose checks it here (through ``core.llm.checked``). A sentence is
accepted only when it is **bound** and everything it says holds:

- **Binding.** A sentence cites sources (``[n]`` markers, or ids for the brief); in text without markers
  (``kam verify``, mails) it is bound by what it names: the account, the metric, the invoice. A sentence in
  marked text without a marker is unbound and rejected (except a short opening or closing from a fixed set,
  and questions or requests, which state nothing).
- **Figures** bind to a fact of a bound source, of the metric the sentence names next to the figure
  (``core.vocabulary``), in the role it is written in (a figure next to "target" is a target), for the account
  and the thing (invoice, order) the clause is about, and for the month it names.
- **Comparisons and status** ("below the target", "meets", "verfehlt", "kein Verstoß", "on track", with their
  negation) are checked against the computed value, threshold, status and the threshold's direction; trend
  words ("fell", "gestiegen", "every month") against the monthly series.
- **Dates** bind to dated facts of the kind the sentence names; the as-of date only to "today / as of / Stand".
- **Content**: a cause, intent, forecast or event ("because", "will cancel", "wegen", "hat gekündigt"), what a
  document is said to say, and a quote must be supported by the words of a cited note or clause (stemmed
  content words with a DE/EN glossary, ``support``), with the event's own verb and the people it names, the
  same negation, no firmer than the source and not as done what the source only plans.
- **Names**: no account, person or company outside the answer's sources.

The result is one verdict per sentence (accepted, or rejected with reasons), which the caller shows the model
in its one repair round and keeps in the run record.
"""

import re
from collections.abc import Iterable, Sequence

from core.claims.checker import SentenceCheck
from core.claims.model import (
    Assessment,
    ClaimContext,
    ClaimReport,
    KnownName,
    SentenceVerdict,
    Series,
    Source,
    SourceKind,
    source_dict,
    source_from_dict,
    text_facts,
)
from core.claims.sentences import MARKER, Sentence, sentence, split_sentences
from core.claims.support import SUPPORT_THRESHOLD, support
from core.claims.words import YEAR_MONTH


def check_sentences(items: Iterable[Sentence], ctx: ClaimContext) -> ClaimReport:
    """Each sentence on its own; one that says again what an earlier one said is rejected (small models
    repeat themselves)."""
    verdicts: list[SentenceVerdict] = []
    seen: set[str] = set()
    for item in items:
        verdict = SentenceCheck(item, ctx).run()
        key = " ".join(re.findall(r"\w+", item.text.lower()))
        if key in seen:
            verdict = SentenceVerdict(verdict.text, False, (*verdict.reasons, "repeats an earlier sentence"),
                                      verdict.cites)
        seen.add(key)
        verdicts.append(verdict)
    return ClaimReport(verdicts)


def check_text(text: str, ctx: ClaimContext) -> ClaimReport:
    """Every sentence of ``text`` (with or without ``[n]`` markers) checked on its own."""
    return check_sentences(split_sentences(text), ctx)


def check_cited(items: Iterable[tuple[str, Sequence[str]]], ctx: ClaimContext) -> ClaimReport:
    """Sentences that carry their citations beside them (the brief's summary: text and cited ids); an item
    of several sentences is checked sentence by sentence, each with the item's citations."""
    return check_sentences([sentence(s.text, (*c, *s.cites)) for t, c in items for s in split_sentences(t)], ctx)


__all__ = ["MARKER", "SUPPORT_THRESHOLD", "YEAR_MONTH", "Assessment", "ClaimContext", "ClaimReport", "KnownName",
           "Sentence", "SentenceVerdict", "Series", "Source", "SourceKind", "check_cited", "check_sentences",
           "check_text", "source_dict", "source_from_dict", "split_sentences", "support", "text_facts"]
