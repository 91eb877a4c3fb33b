"""The NDA review graph. ``builder`` is exported uncompiled; callers compile it with the injected
checkpointer (``builder.compile(checkpointer=...)``) and pass a :class:`ReviewContext` per run."""

from __future__ import annotations

from langgraph.graph import START, StateGraph

from agents.nda_review import nodes
from agents.nda_review.state import ReviewContext, ReviewInput, ReviewState


def build() -> StateGraph[ReviewState, ReviewContext, ReviewInput, ReviewState]:
    graph = StateGraph(ReviewState, context_schema=ReviewContext, input_schema=ReviewInput)
    graph.add_node("extract", nodes.extract)
    graph.add_node("ask_llm", nodes.ask_llm)
    graph.add_node("hypotheses", nodes.hypotheses)
    graph.add_node("judge", nodes.judge_policy)
    graph.add_node("report", nodes.report)
    graph.add_edge(START, "extract")
    return graph


builder = build()
