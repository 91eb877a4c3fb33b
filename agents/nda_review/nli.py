"""The 17 ContractNLI hypotheses: for each, Entailment / Contradiction / NotMentioned with evidence spans.

Deterministic layers, cheapest and most certain first:

0. **Policy facts**: what the review's extractors read (German and English) settles the hypotheses it states
   (an exclusion for independently developed information is nda-12, …), with the sentence it was read from.
1. **Cue patterns** (German and English): per hypothesis, the phrasings that state it or its opposite.
2. **A learned classifier** (English; trained offline on ContractNLI dev in under a minute, shipped with the
   package, numpy only): per hypothesis, a span selector (logistic regression over TF-IDF of the sentence,
   fitted on the gold evidence spans) and a document classifier (multinomial logistic regression over the
   selected spans' TF-IDF, their scores and the cue layer's verdict).

The classifier is always scored on documents it was not fitted on (the eval's document-level folds); the
model that ships is fitted on all 61 documents (``python -m evals.nda_suites ship DEV_JSON`` writes it and
the fold models). German NDAs get the facts and the cues (the classifier has never seen German). An LLM may
then say whether the classifier's top spans state a hypothesis it is unsure of (off in reviews; see README).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.nda_review.extractors import DISCLOSURE_NOTICE, EXCLUSION_KINDS
from agents.nda_review.prompts import NLI_SYSTEM, nli_question
from core.llm import LlmCallRecord, LlmGateway, generate_checked
from core.verify import Failure, Verification, locate_quote, verify_quotes
from policies.nda import NdaFacts, RuleFacts

Label = Literal["Entailment", "Contradiction", "NotMentioned"]
LABELS: tuple[Label, ...] = ("Entailment", "Contradiction", "NotMentioned")
MODEL_PATH = Path(__file__).parent / "models" / "contractnli.npz"
TOP_SPANS = 3
FEATURES_PER_HYPOTHESIS = 1500

HYPOTHESES: dict[str, str] = {
    "nda-1": "All Confidential Information shall be expressly identified by the Disclosing Party.",
    "nda-2": "Confidential Information shall only include technical information.",
    "nda-3": "Confidential Information may include verbally conveyed information.",
    "nda-4": "Receiving Party shall not use any Confidential Information for any purpose other than the purposes "
             "stated in Agreement.",
    "nda-5": "Receiving Party may share some Confidential Information with some of Receiving Party's employees.",
    "nda-7": "Receiving Party may share some Confidential Information with some third-parties (including "
             "consultants, agents and professional advisors).",
    "nda-8": "Receiving Party shall notify Disclosing Party in case Receiving Party is required by law, regulation "
             "or judicial process to disclose any Confidential Information.",
    "nda-10": "Receiving Party shall not disclose the fact that Agreement was agreed or negotiated.",
    "nda-11": "Receiving Party shall not reverse engineer any objects which embody Disclosing Party's Confidential "
              "Information.",
    "nda-12": "Receiving Party may independently develop information similar to Confidential Information.",
    "nda-13": "Receiving Party may acquire information similar to Confidential Information from a third party.",
    "nda-15": "Agreement shall not grant Receiving Party any right to Confidential Information.",
    "nda-16": "Receiving Party shall destroy or return some Confidential Information upon the termination of "
              "Agreement.",
    "nda-17": "Receiving Party may create a copy of some Confidential Information in some circumstances.",
    "nda-18": "Receiving Party shall not solicit some of Disclosing Party's representatives.",
    "nda-19": "Some obligations of Agreement may survive termination of Agreement.",
    "nda-20": "Receiving Party may retain some Confidential Information even after the return or destruction of "
              "Confidential Information.",
}

I = re.IGNORECASE  # noqa: E741


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, I)


# --- layer 1: cue patterns -------------------------------------------------------------------------
# (hypothesis, label, pattern): a sentence matching the pattern states the hypothesis (Entailment) or its
# opposite (Contradiction). The first hypothesis-specific match in document order decides.
CUES: tuple[tuple[str, Label, re.Pattern[str]], ...] = (
    ("nda-1", "Contradiction", _rx(r"whether or not (?:\w+ ){0,3}(?:marked|designated|identified)|regardless of "
                                   r"(?:whether|any) (?:\w+ ){0,3}mark|unabhängig von (?:einer |der )?Kennzeichnung|"
                                   r"ob (?:sie )?(?:als vertraulich )?gekennzeichnet|reasonable person")),
    ("nda-1", "Entailment", _rx(r"(?:marked|designated|labell?ed|identified)[^.;]{0,40}(?:as )?[\"“']?"
                                r"(?:confidential|proprietary)|als vertraulich (?:gekennzeichnet|bezeichnet)")),
    ("nda-2", "Contradiction", _rx(r"(?:business|commercial|financial|kaufmännisch|wirtschaftlich|marketing|"
                                   r"Kalkulation|Preise)")),
    ("nda-3", "Entailment", _rx(r"\boral(?:ly)?\b|verbal(?:ly)?|mündlich")),
    ("nda-4", "Entailment", _rx(r"(?:\buse|verwend\w*|nutz\w*)[^.;]{0,80}(?:solely|only|exclusively|ausschließlich|"
                                r"nur)[^.;]{0,40}(?:for|to|für|zu|zur)|(?:solely|only|exclusively|ausschließlich|nur)"
                                r" (?:for|zur|für) (?:the )?(?:purpose|Zweck|Prüfung|Angebotserstellung|Vorhaben|"
                                r"Projekt)")),
    ("nda-5", "Entailment", _rx(r"(?:employees|Mitarbeiter|Arbeitnehmer)")),
    ("nda-7", "Entailment", _rx(r"(?:advis[eo]rs?|consultants?|agents|Berater|accountants|attorneys|counsel|"
                                r"Subunternehmer|Unterauftragnehmer|subcontractors?)")),
    ("nda-8", "Entailment", _rx(r"(?:notify|notice|notif\w*|inform\w*|unterricht\w*|benachrichtig\w*)[^.;]{0,120}"
                                r"(?:required by law|court order|legal process|subpoena|gesetzlich|behördlich|"
                                r"Anordnung|prior to (?:such )?disclosure|vorab)|(?:required by law|court order|"
                                r"gesetzlich|Anordnung)[^.;]{0,160}(?:notify|notice|inform\w*|unterricht\w*|vorab)")),
    ("nda-10", "Entailment", _rx(r"(?:existence|terms) of this Agreement|fact that[^.;]{0,60}(?:discussions|"
                                 r"negotiations|Agreement)|Bestehen dieser Vereinbarung|Existenz dieser")),
    ("nda-11", "Entailment", _rx(r"reverse[- ]engineer|decompil|disassembl|nachkonstruier|zurückentwickel|"
                                 r"nachzubauen|analysieren")),
    ("nda-12", "Entailment", _rx(r"independently develop|develops? independently|unabhängig[^.;]{0,60}entwickelt|"
                                 r"selbst(?:ändig|ständig)? entwickelt")),
    ("nda-13", "Entailment", _rx(r"third part[^.;]{0,80}(?:without|not bound|no obligation|lawfully|rightfully)|"
                                 r"(?:lawfully|rightfully) (?:received|obtained|acquired)[^.;]{0,60}third|"
                                 r"von (?:einem )?(?:berechtigten )?Dritten[^.;]{0,80}(?:rechtmäßig|ohne)|"
                                 r"rechtmäßig[^.;]{0,60}Dritten")),
    ("nda-15", "Entailment", _rx(r"\b(?:no|not|nothing|kein\w*|weder)\b[^.;]{0,80}(?:licen[cs]e|right|Lizenz|Recht)"
                                 r"|(?:licen[cs]e|Lizenz)[^.;]{0,40}(?:werden nicht|wird nicht|is not|are not)")),
    ("nda-16", "Entailment", _rx(r"(?:termination|expiration|expiry|\bend of|completion|Beendigung|\bEnde\b|Abschluss)"
                                 r"[^.;]{0,160}(?:return|destroy|zurück|vernicht|lösch)|(?:return|destroy|zurück|"
                                 r"vernicht)[^.;]{0,160}(?:termination|expiration|Beendigung)")),
    ("nda-17", "Contradiction", _rx(r"\b(?:not|no|never|nicht|keine)\b[^.;]{0,40}(?:copy|copies|reproduce|Kopien|"
                                    r"vervielfältig)")),
    # making copies, not keeping them: ContractNLI reads a retention exception as nda-20, not nda-17
    ("nda-17", "Entailment", _rx(r"(?:may|darf|dürfen)[^.;]{0,60}(?:copy|copies|Kopie)|(?:Kopien|copies)[^.;]{0,40}"
                                 r"(?:anfertigen|anzufertigen|erstellen|herstellen|make|made)")),
    ("nda-18", "Entailment", _rx(r"solicit|abwerb|abzuwerben|\bhire\b|einzustellen|einstellen|\bemploy\b")),
    ("nda-19", "Entailment", _rx(r"surviv|fortbesteh|fortgelten|\bfort\b|nachwirk|nach (?:Ende|Beendigung)|after "
                                 r"(?:the )?(?:termination|expiry|expiration)")),
    ("nda-20", "Contradiction", _rx(r"\b(?:not|no)\b[^.;]{0,30}(?:retain|keep)[^.;]{0,40}cop|ohne Ausnahme|"
                                    r"einschließlich sämtlicher Kopien|all copies thereof")),
    ("nda-20", "Entailment", _rx(r"(?:retain|keep|behalten|aufbewahr\w*|vorgehalten)[^.;]{0,120}(?:cop|archiv|"
                                 r"backup|back-up|law|Gesetz|Datensicherung|record)|(?:except|save|ausgenommen|"
                                 r"Ausnahme)[^.;]{0,120}(?:cop\w*|Kopien)[^.;]{0,80}(?:law|required|gesetzlich|backup|"
                                 r"Datensicherung)")),
)
# Where a hypothesis is usually stated: a cue counts only in a sentence that is about the topic.
TOPICS: dict[str, re.Pattern[str]] = {
    "nda-1": _rx(r"confidential information|vertrauliche informationen|als vertraulich"),
    "nda-2": _rx(r"[\"“„]?confidential information[\"”“]? (?:means|shall mean|includes|refers)|vertrauliche "
                 r"informationen (?:sind|im sinne)|definition"),
    "nda-3": _rx(r"confidential|vertraulich"),
    "nda-5": _rx(r"disclos|share|access|weiterg[ea]|zugänglich|offenleg|\bgibt\b[^.;]{0,200}\bweiter"),
    "nda-7": _rx(r"disclos|share|access|weiterg[ea]|zugänglich|offenleg|\bgibt\b[^.;]{0,200}\bweiter"),
    "nda-15": _rx(r"licen[cs]e|right|title|Lizenz|Rechte|Schutzrecht|property"),
    "nda-17": _rx(r"cop(?:y|ies)|reproduc|Kopie|vervielfältig"),
    "nda-18": _rx(r"employee|personnel|staff|Mitarbeiter|representative"),
    "nda-20": _rx(r"return|destroy|zurück|vernicht|lösch|retain|behalten"),
}


@dataclass(frozen=True)
class Cue:
    label: Label
    span: int  # index of the sentence/span that states it


def cue_labels(spans: Sequence[str]) -> dict[str, Cue]:
    """The cue layer: per hypothesis the first sentence that states it (or its opposite), if any."""
    found: dict[str, Cue] = {}
    for index, text in enumerate(spans):
        for hypothesis, label, pattern in CUES:
            if hypothesis in found:
                continue
            topic = TOPICS.get(hypothesis)
            if topic is not None and not topic.search(text):
                continue
            if pattern.search(text):
                found[hypothesis] = Cue(label, index)
    return found


# --- layer 2: the learned classifier ---------------------------------------------------------------
WORD = re.compile(r"[a-zäöüß]+(?:['’-][a-z]+)?")
# Kept in every vocabulary: words that turn a statement around.
FUNCTION_WORDS = ("not", "no", "nothing", "without", "except", "only", "solely", "may", "shall", "must", "never",
                  "unless", "upon", "termination", "request", "retain", "copy", "copies", "return", "destroy")


def tokens(text: str) -> list[str]:
    words = WORD.findall(text.lower())
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words)]


def _tfidf(docs_tokens: list[list[str]], vocab: dict[str, int], idf: np.ndarray) -> np.ndarray:
    matrix = np.zeros((len(docs_tokens), len(vocab)), dtype=np.float32)
    for row, toks in enumerate(docs_tokens):
        for token, count in Counter(toks).items():
            if (column := vocab.get(token)) is not None:
                matrix[row, column] = 1.0 + np.log(count)
    matrix *= idf
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-9)


def _fit_logistic(x: np.ndarray, y: np.ndarray, classes: int, *, l2: float, weights: np.ndarray | None = None,
                  steps: int = 300, rate: float = 0.5) -> np.ndarray:
    """Multinomial logistic regression by full-batch gradient descent with Adam; returns (features+1, classes)."""
    design = np.ascontiguousarray(np.hstack([x, np.ones((len(x), 1), dtype=np.float32)]), dtype=np.float32)
    design_t = np.ascontiguousarray(design.T)
    coef = np.zeros((design.shape[1], classes), dtype=np.float32)
    onehot = np.eye(classes, dtype=np.float32)[y]
    sample = (np.ones(len(x)) if weights is None else weights).astype(np.float32)
    sample = (sample / sample.sum())[:, None]
    penalty = np.full((design.shape[1], 1), l2, dtype=np.float32)
    penalty[-1] = 0.0  # the intercept is not shrunk
    m = np.zeros_like(coef)
    v = np.zeros_like(coef)
    for step in range(1, steps + 1):
        probs = _softmax(design @ coef)
        grad = design_t @ ((probs - onehot) * sample) + penalty * coef
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        coef -= rate * (m / (1 - 0.9 ** step)) / (np.sqrt(v / (1 - 0.999 ** step)) + 1e-8)
    return coef


def _softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=-1, keepdims=True)


@dataclass
class HypothesisModel:
    vocab: dict[str, int]
    idf: np.ndarray
    span_coef: np.ndarray  # (F + 1, 2)
    doc_coef: np.ndarray  # (F + TOP_SPANS + 4 + 1, 3)


@dataclass(frozen=True)
class NliPrediction:
    label: Label
    probabilities: dict[str, float]
    evidence: tuple[int, ...]  # span indices
    source: Literal["facts", "cues", "model", "llm", "fallback"] = "model"


CUE_FEATURES = 4  # one-hot: Entailment, Contradiction, NotMentioned (no cue), and a bias-like "cue present"


def _cue_vector(cue: Cue | None) -> np.ndarray:
    vector = np.zeros(CUE_FEATURES, dtype=np.float32)
    if cue is None:
        vector[2] = 1.0
    else:
        vector[LABELS.index(cue.label)] = 1.0
        vector[3] = 1.0
    return vector


def _doc_features(model: HypothesisModel, span_matrix: np.ndarray, cue: Cue | None) -> tuple[np.ndarray, np.ndarray]:
    scores = _softmax(np.hstack([span_matrix, np.ones((len(span_matrix), 1), np.float32)]) @ model.span_coef)[:, 1]
    order = np.argsort(-scores)[:TOP_SPANS]
    top = np.zeros(TOP_SPANS, dtype=np.float32)
    top[: len(order)] = scores[order]
    weights = scores[order] / max(float(scores[order].sum()), 1e-9)
    pooled = (span_matrix[order] * weights[:, None]).sum(axis=0) if len(order) else np.zeros(span_matrix.shape[1])
    return np.concatenate([pooled, top, _cue_vector(cue)]).astype(np.float32), order


@dataclass
class NliModel:
    hypotheses: dict[str, HypothesisModel] = field(default_factory=dict)
    fitted_on: tuple[str, ...] = ()

    @classmethod
    def fit(cls, documents: Sequence[dict[str, Any]], *, l2_span: float = 1e-3, l2_doc: float = 1e-3) -> NliModel:
        """Fit every hypothesis's span selector and document classifier on ContractNLI-format documents."""
        model = cls(fitted_on=tuple(str(d["id"]) for d in documents))
        span_texts = [[d["text"][s:e] for s, e in d["spans"]] for d in documents]
        span_tokens = [[tokens(t) for t in texts] for texts in span_texts]
        cues = [cue_labels(texts) for texts in span_texts]
        for hypothesis in HYPOTHESES:
            annotations = [d["annotation_sets"][0]["annotations"][hypothesis] for d in documents]
            positive: Counter[str] = Counter()
            negative: Counter[str] = Counter()
            for toks, annotation in zip(span_tokens, annotations, strict=True):
                gold = set(annotation["spans"])
                for index, span in enumerate(toks):
                    (positive if index in gold else negative).update(set(span))
            n_pos = max(1, sum(len(a["spans"]) for a in annotations))
            n_neg = max(1, sum(len(t) for t in span_tokens) - n_pos)
            score = {t: np.log((positive[t] + 0.5) / n_pos) - np.log((negative[t] + 0.5) / n_neg)
                     for t in positive if positive[t] >= 2}
            chosen = sorted(score, key=lambda t: -score[t])[:FEATURES_PER_HYPOTHESIS]
            vocab = {t: i for i, t in enumerate(dict.fromkeys([*chosen, *FUNCTION_WORDS]))}
            df = Counter(t for toks in span_tokens for span in toks for t in set(span) if t in vocab)
            total = sum(len(toks) for toks in span_tokens)
            idf = np.array([np.log((1 + total) / (1 + df[t])) + 1 for t in vocab], dtype=np.float32)
            matrices = [_tfidf(toks, vocab, idf) for toks in span_tokens]
            x = np.vstack(matrices)
            y = np.concatenate([[int(i in set(a["spans"])) for i in range(len(toks))]
                                for toks, a in zip(span_tokens, annotations, strict=True)])
            weights = np.where(y == 1, (len(y) - y.sum()) / max(1, y.sum()), 1.0)
            partial = HypothesisModel(vocab, idf, _fit_logistic(x, y, 2, l2=l2_span, weights=weights), np.zeros(0))
            features = np.vstack([_doc_features(partial, m, c.get(hypothesis))[0] for m, c in zip(matrices, cues,
                                                                                                   strict=True)])
            labels = np.array([LABELS.index(a["choice"]) for a in annotations])
            partial.doc_coef = _fit_logistic(features, labels, 3, l2=l2_doc)
            model.hypotheses[hypothesis] = partial
        return model

    def top_spans(self, hypothesis: str, spans: Sequence[str]) -> list[int]:
        model = self.hypotheses[hypothesis]
        matrix = _tfidf([tokens(t) for t in spans], model.vocab, model.idf)
        return [int(i) for i in _doc_features(model, matrix, cue_labels(spans).get(hypothesis))[1]]

    def predict(self, spans: Sequence[str]) -> dict[str, NliPrediction]:
        """Every hypothesis's label for a document given as its spans (sentences)."""
        cues = cue_labels(spans)
        span_tokens = [tokens(t) for t in spans]
        out: dict[str, NliPrediction] = {}
        for hypothesis, model in self.hypotheses.items():
            matrix = _tfidf(span_tokens, model.vocab, model.idf) if spans else np.zeros((0, len(model.vocab)))
            features, order = _doc_features(model, matrix, cues.get(hypothesis))
            probs = _softmax(np.append(features, 1.0) @ model.doc_coef)
            label = LABELS[int(np.argmax(probs))]
            evidence = () if label == "NotMentioned" else tuple(int(i) for i in order[:1])
            out[hypothesis] = NliPrediction(label, {lab: round(float(p), 4) for lab, p in zip(LABELS, probs,
                                                                                             strict=True)}, evidence)
        return out

    # --- shipping ------------------------------------------------------------------------------
    def save(self, path: Path = MODEL_PATH) -> str:
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        meta: dict[str, Any] = {"fitted_on": list(self.fitted_on), "vocab": {}}
        for hypothesis, model in self.hypotheses.items():
            meta["vocab"][hypothesis] = list(model.vocab)
            arrays[f"{hypothesis}.idf"] = model.idf.astype(np.float16)
            arrays[f"{hypothesis}.span"] = model.span_coef.astype(np.float16)
            arrays[f"{hypothesis}.doc"] = model.doc_coef.astype(np.float16)
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        np.savez_compressed(path, **arrays)  # type: ignore[arg-type]
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> NliModel:
        with np.load(path) as data:
            meta = json.loads(bytes(data["meta"]).decode())
            model = cls(fitted_on=tuple(meta["fitted_on"]))
            for hypothesis, words in meta["vocab"].items():
                model.hypotheses[hypothesis] = HypothesisModel(
                    {w: i for i, w in enumerate(words)}, data[f"{hypothesis}.idf"].astype(np.float32),
                    data[f"{hypothesis}.span"].astype(np.float32), data[f"{hypothesis}.doc"].astype(np.float32))
        return model


@lru_cache(maxsize=1)
def shipped_model() -> NliModel:
    """The classifier fitted on all of ContractNLI dev (``python -m agents.nda_review.nli``), loaded once."""
    return NliModel.load(MODEL_PATH)


# --- layer 0: the policy facts the extractors read --------------------------------------------------
# a definition of confidential information that covers every kind of it (so not only technical information)
ANY_KIND = _rx(r"\b(?:alle|sämtliche|jegliche)\s+(?:\w+\s+)?Informationen|gleich welcher Art|"
               r"\b(?:all|any)\s+(?:\w+\s+)?information\b|of any (?:kind|nature)|kaufmännisch|commercial|financial|"
               r"business")
TECHNICAL_ONLY = _rx(r"(?:nur|ausschließlich|only|solely|exclusively)\s+technische|technical information only|"
                     r"(?:only|solely|exclusively)\s+technical")


# Measured on ContractNLI dev (how often each reading agreed with the gold label): nda-8, 12, 13, 18 always,
# nda-5 36/37, nda-3 6/7, nda-1 (marking required) 8/9, nda-7 (advisers or suppliers allowed) 24/30, nda-2 17/21;
# a licence granted (nda-15 Contradiction) does not occur there.
# Survival (nda-19, 31/43) and a retention exception (nda-20, 11/20) were read less reliably there than the
# classifier reads them, so they settle a hypothesis only where the cue layer would decide it (German NDAs).
OVER_CLASSIFIER = frozenset({"nda-1", "nda-2", "nda-3", "nda-5", "nda-7", "nda-8", "nda-12", "nda-13", "nda-15",
                             "nda-18"})


@dataclass(frozen=True)
class Settled:
    label: Label
    offset: int  # where the fact's evidence starts
    item: re.Pattern[str] | None = None  # the listed item that states it, among the spans from ``offset`` on


ITEM_SPANS = 8  # how far after an introducing sentence ("… does not apply to information that:") items are looked for


def fact_labels(facts: NdaFacts) -> dict[str, Settled]:
    """Hypotheses the policy extractors (German and English) settle, each with its label and evidence. Only
    what they read with certainty, and only what a fact states; a fact they did not find says nothing (a
    pattern may have missed it), so the other layers decide those hypotheses."""
    out: dict[str, Settled] = {}

    def settle(hypothesis: str, label: Label, rule: RuleFacts, item: re.Pattern[str] | None = None) -> None:
        # a fallback is the patterns' reading kept after the model's failed the checks: the findings use it,
        # so do the hypotheses (an unverified answer must not take a reading away)
        if rule.found and rule.evidence and (not rule.uncertain or rule.source == "fallback"):
            out[hypothesis] = Settled(label, rule.evidence[0].start, item)

    ci, recipients, excluded = facts.ci_definition, facts.permitted_recipients, facts.exclusions
    if ci.marking_required:
        settle("nda-1", "Entailment", ci)
    if ci.oral_confirmation_days is not None:
        settle("nda-3", "Entailment", ci)
    if ci.evidence and ANY_KIND.search(ci.evidence[0].quote) and not TECHNICAL_ONLY.search(ci.evidence[0].quote):
        settle("nda-2", "Contradiction", ci)  # the definition covers every kind of information
    if "employees" in recipients.allowed:
        settle("nda-5", "Entailment", recipients)
    if {"advisers", "suppliers_subcontractors"} & set(recipients.allowed):
        settle("nda-7", "Entailment", recipients)
    for kind, hypothesis in (("independently_developed", "nda-12"), ("third_party", "nda-13")):
        if kind in excluded.present:
            settle(hypothesis, "Entailment", excluded, EXCLUSION_KINDS[kind])
    if excluded.disclosure_notice:
        settle("nda-8", "Entailment", excluded, DISCLOSURE_NOTICE)
    if facts.ip.licence:
        settle("nda-15", "Contradiction", facts.ip)
    settle("nda-18", "Entailment", facts.non_solicitation)
    settle("nda-19", "Entailment", facts.survival)
    if facts.return_destroy.retention_carve_out:
        settle("nda-20", "Entailment", facts.return_destroy)
    return out


# Where the LLM is asked (measured on ContractNLI, see README): only pairs the classifier is unsure of, and only
# when its two likeliest labels are Entailment and NotMentioned. The embedded model tells whether excerpts
# state a sentence about as well as the classifier does; where Contradiction is in play it did worse.
UNSURE_BELOW = 0.75  # the classifier's top probability under which the LLM is asked
ASKED_BETWEEN = frozenset({"Entailment", "NotMentioned"})


class StatedAnswer(BaseModel):
    stated: Literal["yes", "no"]
    quote: str = Field("", max_length=600)


def excerpts(spans: Sequence[str], order: Sequence[int]) -> list[str]:
    """The top spans as the LLM reads them; a span that ends in a colon goes on into the next one (its list)."""
    texts = []
    for index in order:
        text = spans[index].strip()
        if text.endswith(":") and index + 1 < len(spans):
            text = f"{text} {spans[index + 1].strip()}"
        texts.append(text[:600])
    return texts


def _asked(prediction: NliPrediction) -> bool:
    ranked = sorted(prediction.probabilities, key=prediction.probabilities.__getitem__, reverse=True)
    return prediction.probabilities[ranked[0]] < UNSURE_BELOW and set(ranked[:2]) == ASKED_BETWEEN


def decide(spans: Sequence[str], *, language: str, model: NliModel | None, gateway: LlmGateway | None = None,
           facts: NdaFacts | None = None, span_starts: Sequence[int] = ()
           ) -> tuple[dict[str, NliPrediction], list[LlmCallRecord]]:
    """Every hypothesis's label: what the policy extractors read (``facts``; ``span_starts`` are the spans'
    offsets in the text their evidence points into), then the cues (German) or the classifier (English) for
    the rest; where the classifier is unsure whether a hypothesis is stated at all, the LLM reads the top spans
    and says whether they state it. A "yes" counts only with a quote found in those spans; a failed answer
    leaves the classifier's label (flagged)."""
    english = model is not None and language == "en"
    predictions = model.predict(spans) if model is not None and english else cue_predictions(spans)
    settled = {h: found for h, found in (fact_labels(facts) if facts is not None else {}).items()
               if not english or h in OVER_CLASSIFIER}
    for hypothesis, fact in settled.items():
        index = bisect.bisect_right(span_starts, fact.offset) - 1
        if fact.item is not None and index >= 0:
            index = next((i for i in range(index, min(index + ITEM_SPANS, len(spans))) if fact.item.search(spans[i])),
                         index)
        predictions[hypothesis] = NliPrediction(fact.label, {}, (index,) if index >= 0 else (), "facts")
    calls: list[LlmCallRecord] = []
    if gateway is None or model is None or not english:
        return predictions, calls
    for hypothesis, prediction in predictions.items():
        if hypothesis in settled or not _asked(prediction):
            continue
        order = model.top_spans(hypothesis, spans)
        texts = excerpts(spans, order)

        def quoted(answer: StatedAnswer, source: str = "\n".join(texts)) -> Verification:
            if answer.stated == "no":
                return Verification()
            if not answer.quote.strip():
                return Verification([Failure("quote", "", "a yes needs the sentence that states it")], 1)
            return verify_quotes([answer.quote], source)

        messages = [SystemMessage(content=NLI_SYSTEM),
                    HumanMessage(content=nli_question(HYPOTHESES[hypothesis], texts))]
        checked = generate_checked(gateway, messages, check=quoted, schema=StatedAnswer, purpose="extraction",
                                   fallback=functools.partial(StatedAnswer, stated="yes" if prediction.label ==
                                                              "Entailment" else "no"))
        calls.extend(checked.calls)
        if checked.flagged:
            predictions[hypothesis] = dataclasses.replace(prediction, source="fallback")
        elif checked.value.stated == "no":
            predictions[hypothesis] = NliPrediction("NotMentioned", prediction.probabilities, (), "llm")
        else:
            quote = checked.value.quote
            evidence = tuple(i for i, text in zip(order, texts, strict=True) if locate_quote(quote, text))
            predictions[hypothesis] = NliPrediction("Entailment", prediction.probabilities, evidence[:1], "llm")
    return predictions, calls


def cue_predictions(spans: Sequence[str]) -> dict[str, NliPrediction]:
    """The cue layer alone, as predictions (German NDAs; the classifier is English)."""
    cues = cue_labels(spans)
    return {h: NliPrediction(cues[h].label, {}, (cues[h].span,), "cues") if h in cues
            else NliPrediction("NotMentioned", {}, (), "cues") for h in HYPOTHESES}
