"""The drafting graph. ``builder`` is exported uncompiled; callers compile it with the injected checkpointer
and pass a :class:`DraftContext` per run (thread id: the draft's id). The run stops at ``review`` until a
person decides; nothing is ever sent."""

from __future__ import annotations

from langgraph.graph import START, StateGraph

from agents.escalation_drafter import nodes
from agents.escalation_drafter.state import DraftContext, DraftInput, DraftState


def build() -> StateGraph[DraftState, DraftContext, DraftInput, DraftState]:
    graph = StateGraph(DraftState, context_schema=DraftContext, input_schema=DraftInput)
    graph.add_node("prepare", nodes.prepare)
    graph.add_node("write", nodes.write)
    graph.add_node("store", nodes.store)
    graph.add_node("review", nodes.review)
    graph.add_node("apply", nodes.apply)
    graph.add_edge(START, "prepare")
    return graph


builder = build()
