"""The chat graph. ``builder`` is exported uncompiled; the service compiles it with the injected
checkpointer, one thread per conversation, and passes a :class:`ChatContext` per question."""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from agents.chat import nodes
from agents.chat.state import ChatContext, ChatInput, ChatState


def build() -> StateGraph[ChatState, ChatContext, ChatInput, ChatState]:
    graph = StateGraph(ChatState, context_schema=ChatContext, input_schema=ChatInput)
    graph.add_node("understand", nodes.understand)
    graph.add_node("choose", nodes.choose)
    graph.add_node("act", nodes.act)
    graph.add_node("answer", nodes.answer)
    graph.add_node("finish", nodes.finish)
    graph.add_edge(START, "understand")
    graph.add_edge("finish", END)
    return graph


builder = build()
