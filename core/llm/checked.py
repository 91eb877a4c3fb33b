"""Checked generation: the one path by which model output reaches a person.

generate → check (the claim checker for prose, the agent's validator for extractions) → one repair round with
the reasons shown → else the deterministic fallback, flagged with the reasons. Chat answers, brief summaries,
escalation mails and sentences, NDA readings and ContractNLI answers all come through :func:`generate_checked`;
every round is kept (what the model wrote, each sentence's verdict) for the run record, and only a value that
passed the checks or the fallback is returned, so no unchecked model text leaves this function.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from core.errors import LlmUnavailable
from core.llm import structured as so
from core.llm.retry import is_transient
from core.llm.usage import LlmCallRecord
from core.settings import LlmPurpose
from core.verify import Verification

if TYPE_CHECKING:
    from core.llm.gateway import LlmGateway

T = TypeVar("T")
F = TypeVar("F")
Check = Callable[[T], Verification]
Progress = Callable[[int], None]  # characters of model text received so far (the text itself is never passed)

REPAIR_TEXT = ("Your answer failed these checks (each sentence is checked against the sources):\n{failures}\n"
               "Write the whole answer again. Keep only what the sources say, cite each sentence, and leave out "
               "any sentence you cannot support.")


@dataclass(frozen=True)
class CheckRound:
    """One answer of the model and what the checks found (the run record; never shown as an answer)."""

    text: str
    accepted: bool
    failures: tuple[str, ...] = ()
    sentences: tuple[dict[str, Any], ...] = ()
    parsed: bool = True  # False: the answer was not valid JSON for the schema

    def as_dict(self) -> dict[str, Any]:
        return {"text": self.text, "accepted": self.accepted, "failures": list(self.failures),
                "sentences": list(self.sentences)}


@dataclass(frozen=True)
class Checked(Generic[T]):
    """What may be shown: the model's value that passed every check, or the fallback, flagged with why."""

    value: T
    source: Literal["llm", "fallback"]
    failures: tuple[str, ...]  # why the fallback was used (empty for a checked answer)
    calls: tuple[LlmCallRecord, ...]
    rounds: tuple[CheckRound, ...] = field(default=())
    unavailable: bool = False  # the endpoint could not be reached (no answer to check)
    last_value: T | None = None  # the last answer that parsed, failed or not (for the caller's own reading)

    @property
    def flagged(self) -> bool:
        return self.source == "fallback"

    def record(self) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self.rounds]


def generate_checked(gateway: LlmGateway, messages: Sequence[BaseMessage], *, check: Check[Any],
                     fallback: Callable[[], F], schema: type[T] | None = None, purpose: LlmPurpose = "drafting",
                     repair: Callable[[Verification], str] | None = None,
                     progress: Progress | None = None, budget_s: float | None = None) -> Checked[T | F]:
    """``schema`` None: the model writes plain text (streamed; ``progress`` hears how much arrived, never
    what); a pydantic model: it answers JSON of that schema. ``check`` returns what failed; ``repair`` words
    the one repair request (default: the failures and a request to write again). ``budget_s`` bounds the
    wait for plain text: the repair round runs only when the first attempt took less than half of it, and a
    streamed answer still running at the budget is cut off; the fallback follows."""
    started = time.monotonic()
    conversation = list(messages)
    calls: list[LlmCallRecord] = []
    rounds: list[CheckRound] = []
    failures: list[str] = []
    last: Any = None
    for _round in range(2):
        try:
            deadline = None if budget_s is None else started + budget_s
            raw, value, error = _ask(gateway, conversation, schema, purpose, calls, progress, deadline)
        except _OutOfTime as late:
            failures = [f"no answer within the {budget_s:.0f} s budget"]
            rounds.append(CheckRound(late.text, False, tuple(failures)))
            break
        except Exception as exc:
            if not (isinstance(exc, LlmUnavailable) or is_transient(exc)):
                raise
            failures = [f"LLM unavailable: {type(exc).__name__}: {exc}"[:300]]
            return Checked[T | F](fallback(), "fallback", tuple(failures), tuple(calls), tuple(rounds),
                                  unavailable=True, last_value=last)
        if error is not None:
            failures = [f"not valid JSON for {getattr(schema, '__name__', 'the answer')}: {error}"]
            rounds.append(CheckRound(raw, False, tuple(failures), parsed=False))
            feedback = so.REPAIR_PROMPT.format(error=error)
        else:
            last = value
            verification = check(value)
            failures = [str(f) for f in verification.failures]
            rounds.append(CheckRound(raw, verification.ok, tuple(failures), tuple(verification.sentences)))
            if verification.ok:
                return Checked[T | F](value, "llm", (), tuple(calls), tuple(rounds), last_value=value)
            feedback = repair(verification) if repair else (
                REPAIR_TEXT if schema is None else so.VERIFY_PROMPT).format(failures=verification.feedback())
        spent = time.monotonic() - started
        if _round == 0 and budget_s is not None and 2 * spent > budget_s:
            failures.append(f"no time for a repair round: the first attempt took {spent:.1f} s of a {budget_s:.0f} s "
                            "budget")
            break
        conversation += [AIMessage(content=raw or "(empty)"), HumanMessage(content=feedback)]
    return Checked[T | F](fallback(), "fallback", tuple(failures), tuple(calls), tuple(rounds), last_value=last)


class _OutOfTime(Exception):
    def __init__(self, text: str) -> None:
        super().__init__("out of time")
        self.text = text


def _ask(gateway: LlmGateway, conversation: list[BaseMessage], schema: type[Any] | None, purpose: LlmPurpose,
         calls: list[LlmCallRecord], progress: Progress | None,
         deadline: float | None = None) -> tuple[str, Any, str | None]:
    """One model call: (what it wrote, the parsed value or None, why it did not parse or None). A streamed
    answer still running at ``deadline`` is cut off (``_OutOfTime``): a person waits no longer for it."""
    if schema is None:
        reply = gateway.stream(conversation, purpose=purpose)
        text = ""
        try:
            for chunk in reply:
                text += chunk
                if progress is not None:
                    progress(len(text))
                if deadline is not None and time.monotonic() > deadline:
                    raise _OutOfTime(text)
        finally:
            if reply.usage is not None:
                calls.append(reply.usage)
        return text, text.strip(), None
    model = gateway.model(purpose)  # starting the embedded server may fail here: LlmUnavailable
    runnable: Any = None
    kwargs: dict[str, Any] = {}
    if gateway.structured_mode == "function_calling":
        runnable = model.bind_tools([schema], tool_choice="auto")  # llama.cpp needs "auto" explicitly
    else:
        kwargs = so.request_kwargs(gateway.structured_mode, schema, dict(getattr(model, "extra_body", None) or {}))
    answer = gateway.invoke(conversation, purpose=purpose, runnable=runnable, **kwargs)
    calls.append(answer.usage)
    raw, parsed, error = so.parse(schema, answer.message)
    return raw, parsed, error
