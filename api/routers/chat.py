"""The chat: ask a question about your accounts (answer as JSON, or streamed as Server-Sent Events), and read
your own threads back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from agents.chat import service
from agents.chat.schemas import Answer, Turn
from api.deps import AsOfDep, ChatGatewayDep, CheckpointerDep, PrincipalDep, SettingsDep

router = APIRouter(prefix="/chat", tags=["chat"])


class ChatIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    message: str = Field(min_length=1, max_length=service.MAX_QUESTION_CHARS)
    thread_id: str | None = Field(None, max_length=36, description="Continue this thread (yours); none: a new one")


class ChatOut(BaseModel):
    thread_id: str
    answer: Answer


class ThreadOut(BaseModel):
    id: str
    title: str
    turns: int
    created_at: datetime
    updated_at: datetime


class ThreadDetail(ThreadOut):
    messages: list[Turn]


def _sse(events: Iterator[dict[str, Any]]) -> Iterator[str]:
    for event in events:
        name = event.get("event", "message")
        data = {k: v for k, v in event.items() if k != "event"}
        yield f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


STREAM_DOC = ("Server-Sent Events: `thread` (the thread id), `step` (a tool ran: which, for which account, how "
              "many sources, or why it gave nothing), `progress` (how many characters the model has written; "
              "never its text), `checking` and `rejected` (the checks ran; they failed and the repair round or "
              "the template follows), and `answer` (the checked answer with its citations: the only text in the "
              "stream).")


@router.post("", response_model=ChatOut,
             responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                              "description": f"The answer as JSON, or with `stream=true` / `Accept: "
                                             f"text/event-stream`: {STREAM_DOC}"},
                        429: {"description": "too many questions in the last minute"}})
def chat(body: ChatIn, request: Request, principal: PrincipalDep, settings: SettingsDep,
         checkpointer: CheckpointerDep, gateway: ChatGatewayDep, as_of: AsOfDep,
         stream: Annotated[bool, Query(description="Stream Server-Sent Events")] = False,
         llm: Annotated[bool, Query(description="Let the model phrase the answer (checked); false: the template "
                                                "answer only, as `kam chat --no-llm`")] = True,
         accept: Annotated[str | None, Header()] = None) -> Any:
    """Ask about your accounts. Every figure of the answer comes from the rule modules and the CRM; the model
    only phrases it, and a text whose figures, sources, accounts or language fail the checks is replaced by the
    template answer (``source``: llm, template, fallback, refusal or clarify)."""
    request.app.state.chat_limiter.hit(principal.user_id, "questions")
    events = service.stream(settings, checkpointer, principal, body.message, as_of=as_of,
                            gateway=gateway if llm else None,
                            thread_id=body.thread_id)
    if stream or (accept or "").startswith("text/event-stream"):
        return StreamingResponse(_sse(events), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    thread_id, answer = "", None
    for event in events:
        if event["event"] == "thread":
            thread_id = event["thread_id"]
        elif event["event"] == "answer":
            answer = service.answer_of(event)
    assert answer is not None
    return ChatOut(thread_id=thread_id, answer=answer)


@router.get("/threads", response_model=list[ThreadOut])
def threads(principal: PrincipalDep, settings: SettingsDep,
            limit: Annotated[int, Query(ge=1, le=200)] = 50) -> list[ThreadOut]:
    """Your threads, latest first (nobody sees another user's threads)."""
    return [ThreadOut.model_validate(row, from_attributes=True)
            for row in service.list_threads(settings, principal, limit=limit)]


@router.get("/threads/{thread_id}", response_model=ThreadDetail)
def thread(thread_id: Annotated[str, PathParam(max_length=36)], principal: PrincipalDep, settings: SettingsDep,
           checkpointer: CheckpointerDep) -> ThreadDetail:
    row, turns = service.thread_turns(settings, checkpointer, principal, thread_id)
    return ThreadDetail(**ThreadOut.model_validate(row, from_attributes=True).model_dump(), messages=turns)
