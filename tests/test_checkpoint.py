"""The checkpointer factory: a graph's progress is kept across a restart of the process that ran it."""

from __future__ import annotations

from typing import TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from core.checkpoint import open_checkpointer
from core.settings import Settings


class Steps(TypedDict, total=False):
    done: list[str]
    approved_by: str


def build() -> StateGraph:
    def draft(state: Steps) -> Steps:
        return {"done": [*state.get("done", []), "draft"]}

    def approve(state: Steps) -> Steps:
        return {"approved_by": interrupt("approve the draft?"), "done": [*state["done"], "approve"]}

    graph = StateGraph(Steps)
    graph.add_node("draft", draft)
    graph.add_node("approve", approve)
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "approve")
    graph.add_edge("approve", END)
    return graph


def run_and_resume(settings: Settings) -> None:
    config = {"configurable": {"thread_id": "escalation-A-00001"}}
    with open_checkpointer(settings) as saver:
        paused = build().compile(checkpointer=saver).invoke({"done": []}, config)
        assert paused["__interrupt__"][0].value == "approve the draft?"
    with open_checkpointer(settings) as saver:  # a new process: only what was checkpointed is left
        graph = build().compile(checkpointer=saver)
        assert graph.get_state(config).next == ("approve",)
        final = graph.invoke(Command(resume="U-KAM-001"), config)
    assert final == {"done": ["draft", "approve"], "approved_by": "U-KAM-001"}


def test_sqlite_checkpoints_survive_a_restart(settings: Settings) -> None:
    run_and_resume(settings)
    assert (settings.data_dir / "checkpoints.db").is_file()
