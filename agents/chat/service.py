"""Running the chat: one thread per conversation, owned by the user who started it (a thread of someone else
answers like one that does not exist), its turns in the checkpointer. ``ask`` returns the answer; ``stream``
yields the run's events (steps, progress while the model writes, checks and rejected attempts, the final checked
answer: the only model text in the stream)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import select

from agents.chat.graph import builder
from agents.chat.schemas import Answer, Turn
from agents.chat.state import ChatContext
from core.access import Principal
from core.db import models as m
from core.db.session import session_scope
from core.errors import InvalidInput, NotFound
from core.jobs.queue import utcnow
from core.llm import LlmGateway
from core.settings import Settings

MAX_QUESTION_CHARS = 2000
TITLE_CHARS = 80


def _compiled(checkpointer: BaseCheckpointSaver[Any]) -> Any:
    return builder.compile(checkpointer=checkpointer)


def _language(session: Any, principal: Principal) -> str:
    user = session.get(m.User, principal.user_id)
    return "de" if user is not None and user.language == "de" else "en"


def _open_thread(settings: Settings, principal: Principal, thread_id: str | None, question: str) -> tuple[str, str]:
    """The caller's thread (a new one without an id); 404 for a thread of someone else. Returns the thread id
    and the reader's language."""
    question = question.strip()
    if not question:
        raise InvalidInput("the message is empty")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidInput(f"the message is longer than {MAX_QUESTION_CHARS} characters")
    with session_scope(settings.resolved_database_url) as session:
        language = _language(session, principal)
        if thread_id is None:
            now = utcnow()
            thread_id = str(uuid.uuid4())
            session.add(m.ChatThread(id=thread_id, user_id=principal.user_id, title=question[:TITLE_CHARS], turns=0,
                                     created_at=now, updated_at=now))
        else:
            owned(session, principal, thread_id)
    return thread_id, language


def owned(session: Any, principal: Principal, thread_id: str) -> m.ChatThread:
    row = session.get(m.ChatThread, thread_id)
    if row is None or row.user_id != principal.user_id:
        raise NotFound(f"chat thread {thread_id!r} not found")
    return row


def _context(settings: Settings, principal: Principal, as_of: date, gateway: LlmGateway | None,
             language: str) -> ChatContext:
    return ChatContext(principal=principal, as_of=as_of, gateway=gateway, default_language=language,
                       database_url=settings.resolved_database_url, data_dir=str(settings.data_dir))


def _record_turn(settings: Settings, thread_id: str) -> None:
    with session_scope(settings.resolved_database_url) as session:
        row = session.get(m.ChatThread, thread_id)
        if row is not None:
            row.turns += 1
            row.updated_at = utcnow()


def stream(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal, question: str, *,
           as_of: date, gateway: LlmGateway | None, thread_id: str | None = None) -> Iterator[dict[str, Any]]:
    """The run's events: ``thread`` first, then ``step``/``progress``/``checking``/``rejected`` as they happen, and
    ``answer`` (the checked answer, the only text to trust) last. The thread is opened (or refused) before
    this returns, so a caller can answer 404 or 422 before it starts streaming."""
    thread_id, language = _open_thread(settings, principal, thread_id, question)
    context = _context(settings, principal, as_of, gateway, language)
    return _events(settings, _compiled(checkpointer), thread_id, question.strip(), context)


def _events(settings: Settings, graph: Any, thread_id: str, question: str, context: ChatContext
            ) -> Iterator[dict[str, Any]]:
    yield {"event": "thread", "thread_id": thread_id}
    config: Any = {"configurable": {"thread_id": thread_id}}
    yield from graph.stream({"question": question}, config, context=context, stream_mode="custom")
    _record_turn(settings, thread_id)


def ask(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal, question: str, *,
        as_of: date, gateway: LlmGateway | None, thread_id: str | None = None) -> tuple[str, Answer]:
    """One answer, not streamed: the thread id and the checked answer."""
    answer: Answer | None = None
    for event in stream(settings, checkpointer, principal, question, as_of=as_of, gateway=gateway,
                        thread_id=thread_id):
        if event["event"] == "thread":
            thread_id = event["thread_id"]
        elif event["event"] == "answer":
            answer = answer_of(event)
    assert answer is not None and thread_id is not None
    return thread_id, answer


def answer_of(event: dict[str, Any]) -> Answer:
    return Answer.model_validate({k: v for k, v in event.items() if k != "event"})


def list_threads(settings: Settings, principal: Principal, *, limit: int = 50) -> list[m.ChatThread]:
    with session_scope(settings.resolved_database_url) as session:
        rows = list(session.execute(select(m.ChatThread).where(m.ChatThread.user_id == principal.user_id)
                                    .order_by(m.ChatThread.updated_at.desc()).limit(limit)).scalars())
        session.expunge_all()
        return rows


def thread_turns(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal,
                 thread_id: str) -> tuple[m.ChatThread, list[Turn]]:
    with session_scope(settings.resolved_database_url) as session:
        row = owned(session, principal, thread_id)
        session.expunge(row)
    state = _compiled(checkpointer).get_state({"configurable": {"thread_id": thread_id}})
    return row, [Turn.model_validate(t) for t in (state.values or {}).get("turns", [])]
