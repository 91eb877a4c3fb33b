"""The checkpointer factory: a graph's progress is kept across a restart of the process that ran it."""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import pytest
from langgraph.graph import END, START, StateGraph
from langgraph.types import Command, interrupt

from core.checkpoint import open_async_checkpointer, open_checkpointer
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


async def astream_and_resume(settings: Settings) -> list[str]:
    """The async factory: stream the graph on the event loop to its interrupt, then resume it from a freshly
    opened store, as a streaming chat would; the sync factory sees the same thread."""
    config: Any = {"configurable": {"thread_id": "async-escalation-A-00001"}}
    seen: list[str] = []
    async with open_async_checkpointer(settings) as saver:
        async for update in build().compile(checkpointer=saver).astream({"done": []}, config, stream_mode="updates"):
            seen.extend(update)
    async with open_async_checkpointer(settings) as saver:
        graph = build().compile(checkpointer=saver)
        assert (await graph.aget_state(config)).next == ("approve",)
        async for update in graph.astream(Command(resume="U-KAM-002"), config, stream_mode="updates"):
            seen.extend(update)
    with open_checkpointer(settings) as saver:
        assert build().compile(checkpointer=saver).get_state(config).values["approved_by"] == "U-KAM-002"
    return seen


def test_async_checkpoints_stream_and_resume_on_sqlite(settings: Settings) -> None:
    assert asyncio.run(astream_and_resume(settings)) == ["draft", "__interrupt__", "approve"]


def test_the_runner_resumes_an_interrupt_and_never_reruns_a_finished_thread(settings: Settings) -> None:
    """agents.runner: fresh run → waiting at the interrupt (payload returned); a run without a decision
    stays waiting; the decision resumes it; a finished thread comes back without running a node."""
    from agents.runner import run_graph

    with open_checkpointer(settings) as saver:
        compiled = build().compile(checkpointer=saver)
        first = run_graph(compiled, "t-1", {"done": []}, None)
        assert (first.status, first.interrupts) == ("interrupted", ("approve the draft?",))
        assert run_graph(compiled, "t-1", {"done": []}, None).status == "interrupted"
        done = run_graph(compiled, "t-1", None, None, resume="U-KAM-001")
        assert done.status == "done" and done.values["approved_by"] == "U-KAM-001"
        again = run_graph(compiled, "t-1", {"done": []}, None)
        assert again.replayed and again.values == done.values
        with pytest.raises(Exception, match="not waiting"):
            run_graph(compiled, "t-2", {"done": []}, None, resume="x")


def test_the_runner_finishes_a_thread_killed_between_a_nodes_writes_and_the_next_checkpoint(
        settings: Settings) -> None:
    """The window a `kill -9` hit in CI: node "draft" finished and its writes were saved, the checkpoint after
    it was not. The thread then lists no next node, but it is not finished: the runner must carry on from the
    saved writes (without running "draft" again), not return the half-done state as done."""
    import sqlite3

    from agents.runner import run_graph

    ran: list[str] = []

    def node(name: str) -> Any:
        def step(state: Steps) -> Steps:
            ran.append(name)
            return {"done": [*state.get("done", []), name]}
        return step

    graph = StateGraph(Steps)
    for name in ("draft", "check", "send"):
        graph.add_node(name, node(name))
    graph.add_edge(START, "draft")
    graph.add_edge("draft", "check")
    graph.add_edge("check", "send")
    graph.add_edge("send", END)
    config: Any = {"configurable": {"thread_id": "killed"}}
    with open_checkpointer(settings) as saver:
        compiled = graph.compile(checkpointer=saver)
        assert run_graph(compiled, "killed", {"done": []}, None).values["done"] == ["draft", "check", "send"]
        before_draft = next(s for s in compiled.get_state_history(config) if s.next == ("draft",))
        cut = before_draft.config["configurable"]["checkpoint_id"]
    with sqlite3.connect(settings.data_dir / "checkpoints.db") as conn:  # the checkpoints after "draft" were lost
        conn.execute("DELETE FROM checkpoints WHERE thread_id = 'killed' AND checkpoint_id > ?", (cut,))
        conn.execute("DELETE FROM writes WHERE thread_id = 'killed' AND checkpoint_id > ?", (cut,))
    ran.clear()
    with open_checkpointer(settings) as saver:
        compiled = graph.compile(checkpointer=saver)
        state = compiled.get_state(config)
        assert state.next == () and [t.name for t in state.tasks] == ["draft"]  # finished, not yet checkpointed
        resumed = run_graph(compiled, "killed", {"done": []}, None)
    assert resumed.status == "done" and not resumed.replayed
    assert resumed.values["done"] == ["draft", "check", "send"] and ran == ["check", "send"]
