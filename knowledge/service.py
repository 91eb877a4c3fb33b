"""The process-wide knowledge store and retriever, built from settings."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from core.settings import Settings
from knowledge.embeddings import KamEmbedding
from knowledge.retriever import Retriever
from knowledge.store import KnowledgeStore


@lru_cache(maxsize=4)
def _store(data_dir: str, chroma_url: str | None, model: str, variant: str) -> KnowledgeStore:
    return KnowledgeStore(Path(data_dir), chroma_url=chroma_url,
                          embedding=KamEmbedding(variant=variant, model=model))  # type: ignore[arg-type]


def get_store(settings: Settings) -> KnowledgeStore:
    return _store(str(settings.data_dir.resolve()), settings.chroma_url, settings.embedding_model,
                  settings.embedding_variant)


def get_retriever(settings: Settings) -> Retriever:
    return Retriever(get_store(settings))


def reset() -> None:
    """Forget cached stores (tests switch data directories)."""
    _store.cache_clear()
