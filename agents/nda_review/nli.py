"""The 17 ContractNLI hypotheses: for each, Entailment / Contradiction / NotMentioned with evidence spans.

Two layers, both deterministic and cheap:

1. **Cue patterns** (German and English): per hypothesis, the phrasings that state it or its opposite.
2. **A learned classifier** (English; trained offline on ContractNLI dev in a few seconds, shipped with the
   package, numpy only): per hypothesis, a span selector (logistic regression over TF-IDF of the sentence,
   fitted on the gold evidence spans) and a document classifier (multinomial logistic regression over the
   selected spans' TF-IDF, their scores and the cue layer's verdict).

The classifier is always scored on documents it was not fitted on (the eval's document-level folds); the
model that ships is fitted on all 61 documents (``python -m evals.nda_suites ship DEV_JSON`` writes it and
the fold models). German NDAs are labelled by the cue layer alone (the classifier has never seen German).
"""

from __future__ import annotations

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

from agents.nda_review.prompts import NLI_SYSTEM, nli_question
from core.llm import LlmCallRecord, LlmGateway
from core.verify import Failure, Verification, verify_quotes

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
    ("nda-4", "Entailment", _rx(r"(?:use|verwend\w*|nutz\w*)[^.;]{0,80}(?:solely|only|exclusively|ausschließlich|"
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
    ("nda-15", "Entailment", _rx(r"(?:no|not|nothing|kein\w*|keine|weder)[^.;]{0,80}(?:licen[cs]e|right|Lizenz|Recht)"
                                 r"|(?:licen[cs]e|Lizenz)[^.;]{0,40}(?:werden nicht|wird nicht|is not|are not)")),
    ("nda-16", "Entailment", _rx(r"(?:termination|expiration|expiry|end of|completion|Beendigung|Ende|Abschluss)"
                                 r"[^.;]{0,160}(?:return|destroy|zurück|vernicht|lösch)|(?:return|destroy|zurück|"
                                 r"vernicht)[^.;]{0,160}(?:termination|expiration|Beendigung)")),
    ("nda-17", "Contradiction", _rx(r"(?:not|no|never|nicht|keine)[^.;]{0,40}(?:copy|copies|reproduce|Kopien|"
                                    r"vervielfältig)")),
    ("nda-17", "Entailment", _rx(r"(?:may|darf|dürfen)[^.;]{0,60}(?:copy|copies|Kopie)|(?:copies|Kopien)[^.;]{0,80}"
                                 r"(?:retain|keep|behalten|aufbewahr)")),
    ("nda-18", "Entailment", _rx(r"solicit|abwerb|hire|einstellen|employ")),
    ("nda-19", "Entailment", _rx(r"surviv|fortbesteh|fortgelten|\bfort\b|nachwirk|nach (?:Ende|Beendigung)|after "
                                 r"(?:the )?(?:termination|expiry|expiration)")),
    ("nda-20", "Contradiction", _rx(r"(?:not|no)[^.;]{0,30}(?:retain|keep)[^.;]{0,40}cop|ohne Ausnahme|"
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
    "nda-5": _rx(r"disclos|share|access|weiterge|zugänglich|offenleg|\bgibt\b[^.;]{0,200}\bweiter"),
    "nda-7": _rx(r"disclos|share|access|weiterge|zugänglich|offenleg|\bgibt\b[^.;]{0,200}\bweiter"),
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
    source: Literal["cues", "model", "llm", "fallback"] = "model"


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


# The hypotheses the classifier finds hardest (in cross-validation): where the LLM may spend its tokens.
HARD = frozenset({"nda-1", "nda-2", "nda-4", "nda-7", "nda-10", "nda-16", "nda-17", "nda-20"})
UNSURE_BELOW = 0.75  # the classifier's top probability under which the LLM is asked


class NliAnswer(BaseModel):
    label: Label
    quote: str = Field("", max_length=600)


def decide(spans: Sequence[str], *, language: str, model: NliModel | None, gateway: LlmGateway | None = None,
           ) -> tuple[dict[str, NliPrediction], list[LlmCallRecord]]:
    """Every hypothesis's label: cues (German) or the classifier (English), and for hard hypotheses the
    classifier is unsure of, the LLM over the top spans only; its answer counts only if its quote is found
    in those spans, else the classifier's label stands (flagged as fallback)."""
    if model is None or language != "en":
        return cue_predictions(spans), []
    predictions = model.predict(spans)
    calls: list[LlmCallRecord] = []
    if gateway is None:
        return predictions, calls
    for hypothesis, prediction in predictions.items():
        if hypothesis not in HARD or max(prediction.probabilities.values()) >= UNSURE_BELOW:
            continue
        order = model.top_spans(hypothesis, spans)
        texts = [spans[i].strip()[:600] for i in order]
        source = "\n".join(texts)

        def quoted(answer: NliAnswer, source: str = source) -> Verification:
            if answer.label == "NotMentioned":
                return Verification()
            if not answer.quote.strip():
                return Verification([Failure("quote", "", "no quote for a label other than NotMentioned")], 1)
            return verify_quotes([answer.quote], source)

        messages = [SystemMessage(content=NLI_SYSTEM), HumanMessage(content=nli_question(HYPOTHESES[hypothesis],
                                                                                        texts))]
        checked = gateway.checked(messages, NliAnswer, validator=quoted,
                                  fallback=functools.partial(NliAnswer, label=prediction.label))
        calls.extend(checked.calls)
        evidence = tuple(i for i in order if checked.value.quote and checked.value.quote.strip()[:40] in spans[i]) \
            or prediction.evidence
        predictions[hypothesis] = NliPrediction(checked.value.label, prediction.probabilities,
                                                () if checked.value.label == "NotMentioned" else evidence,
                                                "fallback" if checked.flagged else "llm")
    return predictions, calls


def cue_predictions(spans: Sequence[str]) -> dict[str, NliPrediction]:
    """The cue layer alone, as predictions (German NDAs; the classifier is English)."""
    cues = cue_labels(spans)
    return {h: NliPrediction(cues[h].label, {}, (cues[h].span,), "cues") if h in cues
            else NliPrediction("NotMentioned", {}, (), "cues") for h in HYPOTHESES}
