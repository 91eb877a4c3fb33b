"""The one way every agent graph is run: start, continue after a crash, resume after an ``interrupt``, or
return a finished run as it is — on the thread's checkpoints, so nothing is done (or paid for) twice.

A job passes its :class:`~core.jobs.JobContext`; between steps the run stops when the job lost its lease or
ran past its time limit, and the caller publishes inside ``job.fence(session)``'s transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from langgraph.types import Command

from core.errors import InvalidInput
from core.jobs import JobContext

RunStatus = Literal["done", "interrupted"]


@dataclass(frozen=True)
class GraphRun:
    status: RunStatus
    values: dict[str, Any]  # the thread's state after the run
    interrupts: tuple[Any, ...] = ()  # the payloads the graph waits on (e.g. a draft for a person to review)
    replayed: bool = False  # the thread had already finished: nothing ran


def run_graph(graph: Any, thread_id: str, inputs: dict[str, Any] | None, context: Any, *,
              resume: Any = None, job: JobContext | None = None) -> GraphRun:
    """Run the compiled ``graph`` on ``thread_id``: fresh with ``inputs``, from its last checkpoint when it
    stopped part-way, with ``resume`` when it waits at an ``interrupt``; a finished thread comes back as it is."""
    config: Any = {"configurable": {"thread_id": thread_id}}
    state = graph.get_state(config)
    waiting = tuple(i.value for task in state.tasks for i in task.interrupts)
    # A process killed after a node's writes were saved but before the next checkpoint leaves tasks that
    # have finished (so ``next`` is empty) yet the run is not over: only a thread with no tasks is done.
    unfinished = bool(state.next or state.tasks)
    if state.values and not unfinished:
        return GraphRun("done", dict(state.values), replayed=True)
    if waiting and resume is None:
        return GraphRun("interrupted", dict(state.values), waiting)
    if resume is not None and not waiting:
        raise InvalidInput(f"{thread_id} is not waiting for a decision")
    start: Any = Command(resume=resume) if resume is not None else None if unfinished else inputs
    for _step in graph.stream(start, config, context=context, stream_mode="updates"):
        if job is not None:
            job.check()
    state = graph.get_state(config)
    waiting = tuple(i.value for task in state.tasks for i in task.interrupts)
    return GraphRun("interrupted" if waiting else "done", dict(state.values), waiting)
