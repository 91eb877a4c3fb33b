"""The brief graph. ``builder`` is exported uncompiled; callers compile it with the injected checkpointer and
pass a :class:`BriefContext` per run (thread id: account, date, kind and language)."""

from __future__ import annotations

from langgraph.graph import START, StateGraph

from agents.account_brief import nodes
from agents.account_brief.state import BriefContext, BriefInput, BriefState


def build() -> StateGraph[BriefState, BriefContext, BriefInput, BriefState]:
    graph = StateGraph(BriefState, context_schema=BriefContext, input_schema=BriefInput)
    graph.add_node("gather", nodes.gather)
    graph.add_node("retrieve", nodes.retrieve)
    graph.add_node("draft", nodes.draft)
    graph.add_node("compose", nodes.compose)
    graph.add_edge(START, "gather")
    return graph


builder = build()
