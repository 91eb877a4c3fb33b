"""Deterministic metrics shared by every eval suite (plain Python, no LLM)."""

from __future__ import annotations

import re
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from core.verify import FactLike, verify_numbers, verify_quotes


@dataclass(frozen=True)
class PRF:
    precision: float
    recall: float
    f1: float
    true_positives: int
    predicted: int
    expected: int


def prf(predicted: Iterable[Hashable], expected: Iterable[Hashable]) -> PRF:
    """Set precision/recall/F1; empty prediction and empty expectation count as perfect."""
    p, e = set(predicted), set(expected)
    tp = len(p & e)
    precision = tp / len(p) if p else (1.0 if not e else 0.0)
    recall = tp / len(e) if e else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp, len(p), len(e))


def micro_prf(pairs: Iterable[tuple[Iterable[Hashable], Iterable[Hashable]]]) -> PRF:
    tp = predicted = expected = 0
    for pred, exp in pairs:
        result = prf(pred, exp)
        tp, predicted, expected = tp + result.true_positives, predicted + result.predicted, expected + result.expected
    precision = tp / predicted if predicted else 1.0
    recall = tp / expected if expected else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return PRF(precision, recall, f1, tp, predicted, expected)


def accuracy(predicted: Sequence[Hashable], expected: Sequence[Hashable]) -> float:
    if len(predicted) != len(expected):
        raise ValueError("predicted and expected differ in length")
    return sum(p == e for p, e in zip(predicted, expected, strict=True)) / len(expected) if expected else 1.0


def macro_f1(predicted: Sequence[Hashable], expected: Sequence[Hashable]) -> float:
    """Unweighted mean of per-label F1 over the labels that occur in either list."""
    labels = set(predicted) | set(expected)
    scores = []
    for label in labels:
        tp = sum(p == e == label for p, e in zip(predicted, expected, strict=True))
        fp = sum(p == label != e for p, e in zip(predicted, expected, strict=True))
        fn = sum(e == label != p for p, e in zip(predicted, expected, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return sum(scores) / len(scores) if scores else 1.0


def recall_at_k(ranked: Sequence[Hashable], relevant: Iterable[Hashable], k: int) -> float:
    wanted = set(relevant)
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 1.0


def reciprocal_rank(ranked: Sequence[Hashable], relevant: Iterable[Hashable]) -> float:
    wanted = set(relevant)
    for rank, item in enumerate(ranked, start=1):
        if item in wanted:
            return 1.0 / rank
    return 0.0


# --- numbers and quotes in generated text (the runtime verifier, core.verify, is the one implementation) ---
@dataclass(frozen=True)
class Faithfulness:
    score: float  # traced numbers ÷ numbers in the text (1.0 when the text has none)
    untraced: list[str]
    checked: int


def numeric_faithfulness(text: str, facts: Iterable[FactLike], *, ignore: Iterable[str] = ()) -> Faithfulness:
    """Every number and date in the text must trace to a computed fact at the precision the text states."""
    result = verify_numbers(text, facts, ignore=set(ignore))
    untraced = [f.item for f in result.failures]
    return Faithfulness(1.0 - len(untraced) / result.checked if result.checked else 1.0, untraced, result.checked)


def citation_validity(quotes: Iterable[str], source: str) -> float:
    """Share of quoted evidence that occurs verbatim (whitespace-normalised) in the source."""
    result = verify_quotes(quotes, source)
    return 1.0 - len(result.failures) / result.checked if result.checked else 1.0


# --- refusals ------------------------------------------------------------------------------------
REFUSAL = re.compile(
    r"\b(I (?:can(?:no|')t|am not able to|do not have|don't have)|not (?:in|within) (?:my|the) (?:scope|data|sources)"
    r"|no (?:information|data) (?:about|on)|kann ich nicht|keine (?:Informationen|Daten) (?:zu|über|dazu)"
    r"|liegt mir nicht vor|außerhalb meines)\b", re.IGNORECASE)


def is_refusal(answer: str) -> bool:
    """A deliberate "I cannot answer that from the data" (DE/EN), as opposed to an answer."""
    return bool(REFUSAL.search(answer))


def refusal_rate(answers: Iterable[str]) -> float:
    """Share of answers that refuse; on out-of-scope questions higher is better, on in-scope lower."""
    items = list(answers)
    return sum(is_refusal(a) for a in items) / len(items) if items else 0.0
