"""Structured output that works on OpenAI and on small local servers.

The model's JSON is parsed and validated here, not trusted: a failure is shown to the model once, and a
second failure raises :class:`StructuredOutputError`, which callers turn into a deterministic fallback.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.messages import AIMessage
from pydantic import BaseModel, ValidationError

from core.errors import KamError

StructuredMode = Literal["json_object", "json_schema", "function_calling"]

REPAIR_PROMPT = (
    "Your previous answer was not valid for the required JSON schema:\n{error}\n"
    "Answer again with one corrected JSON object and nothing else."
)
VERIFY_PROMPT = (
    "Your previous answer was checked against the source and the computed facts, and this failed:\n{failures}\n"
    "Answer again with one corrected JSON object: quote only text that occurs in the document, use only the "
    "given figures, or leave a field empty when you are not sure."
)


class StructuredOutputError(KamError):
    """No valid (or no verified) answer after the repair round, or no answer at all because the endpoint stayed
    unreachable after the retries (``unavailable``); ``last_value`` is the last one that parsed."""

    status_code = 502

    def __init__(self, schema: type[BaseModel], raw: str, error: str, *, failures: Sequence[str] = (),
                 last_value: BaseModel | None = None, calls: tuple[Any, ...] = (), unavailable: bool = False) -> None:
        detail = f"{error}: {'; '.join(failures)}" if failures else error
        super().__init__(f"model output did not validate as {schema.__name__}: {detail}", details=list(failures))
        self.schema = schema
        self.raw = raw
        self.error = error
        self.failures = list(failures)
        self.last_value = last_value
        self.calls = calls
        self.unavailable = unavailable


def request_kwargs(mode: StructuredMode, schema: type[BaseModel], base_extra_body: dict[str, Any]) -> dict[str, Any]:
    """Extra request fields per mode; sent via ``extra_body`` so langchain's beta-parse path is not used."""
    json_schema = schema.model_json_schema()
    if mode == "json_object":
        # llama.cpp / llama-cpp-python: grammar-constrained JSON from the schema (json_schema gives HTTP 500).
        fmt = {"type": "json_object", "schema": grammar_safe(json_schema)}
    elif mode == "json_schema":
        fmt = {"type": "json_schema", "json_schema": {"name": schema.__name__, "schema": json_schema,
                                                      "strict": False}}
    else:
        return {}
    return {"extra_body": {**base_extra_body, "response_format": fmt}}


# llama.cpp turns a string's maxLength into one grammar rule per character; beyond a few thousand rules the
# embedded server aborts ("number of rules … exceeds sane defaults") and the connection drops. Longer bounds
# are left to max_tokens and checked by pydantic on the answer.
GRAMMAR_MAX_LENGTH = 1000


def grammar_safe(node: Any) -> Any:
    """The JSON schema without string bounds a llama.cpp grammar cannot hold."""
    if isinstance(node, dict):
        out = {k: grammar_safe(v) for k, v in node.items()}
        if isinstance(out.get("maxLength"), int) and out["maxLength"] > GRAMMAR_MAX_LENGTH:
            del out["maxLength"]
        return out
    if isinstance(node, list):
        return [grammar_safe(v) for v in node]
    return node


_FENCE = re.compile(r"^```(?:json)?\s*|\s*```$", re.MULTILINE)


def extract_payload(message: AIMessage) -> tuple[str, Any]:
    """Return (raw text, decoded JSON) from a tool call or from the content."""
    if message.tool_calls:
        args = message.tool_calls[0]["args"]
        return json.dumps(args, ensure_ascii=False), args
    raw = message.content if isinstance(message.content, str) else json.dumps(message.content)
    text = _FENCE.sub("", raw.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end < start:
        raise ValueError("no JSON object in the answer")
    return raw, json.loads(text[start : end + 1])


def parse(schema: type[BaseModel], message: AIMessage) -> tuple[str, BaseModel | None, str | None]:
    """(raw, parsed or None, error or None)."""
    raw = message.content if isinstance(message.content, str) else str(message.content)
    try:
        raw, payload = extract_payload(message)
        return raw, schema.model_validate(payload), None
    except (ValueError, ValidationError) as exc:
        return raw, None, _short_error(exc)


def _short_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'root'}: {e['msg']}" for e in exc.errors()[:8]
        )
    return str(exc)[:300]


def unbounded_string_fields(schema: type[BaseModel]) -> list[str]:
    """String fields without ``max_length``: small models can loop forever inside an unbounded string."""
    found: list[str] = []

    def walk(node: Any, path: str, defs: dict[str, Any]) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                walk(defs.get(node["$ref"].split("/")[-1], {}), path, defs)
                return
            if node.get("type") == "string" and "maxLength" not in node and "enum" not in node \
                    and "const" not in node and "format" not in node:
                found.append(path or "root")
            for key in ("anyOf", "allOf", "oneOf"):
                for option in node.get(key, []):
                    walk(option, path, defs)
            for name, prop in node.get("properties", {}).items():
                walk(prop, f"{path}.{name}" if path else name, defs)
            if "items" in node:
                walk(node["items"], f"{path}[]", defs)

    full = schema.model_json_schema()
    walk(full, "", full.get("$defs", {}))
    return found
