"""Canonical records -> the message lists chat templates read (the Hugging Face shape).

- the record's system prompt becomes a first `system` message;
- `reasoning` (reasoning the source holds apart from the answer) is passed as
  `reasoning_content`, the name transformers uses (the renderer aliases it to `thinking` as
  transformers does). Reasoning written inside the content (`<think>…</think>`,
  `<|begin_of_thought|>…<|end_of_thought|>`, `<reasoning>…</reasoning>`) stays in the content,
  as the trainer reads it; with `split_reasoning=True` (the user asks) a leading block is moved
  to `reasoning_content`, for templates that place reasoning themselves;
- tool calls take the HF shape {"type": "function", "function": {"name", "arguments"}}, with
  arguments decoded from JSON when they are JSON (templates `tojson` them);
- keys whose value is None are dropped, as transformers does, so templates test `is defined`.

A preference row gives two conversations (prompt + chosen, prompt + rejected); a text row
gives none (it has no turns to template).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from workbench.data.record import Record, Turn, split_inline_reasoning


@dataclass
class Conversation:
    side: str  # "conversation" | "chosen" | "rejected"
    messages: list[dict]  # what the template sees
    turns: list[Turn]  # the canonical turns, parallel to messages (the system prompt is a turn too)
    completion_from: int  # index of the first message of the preference continuation (len(messages) if none)
    tools: list[dict] | None
    documents: list[dict] | None = None  # retrieval documents for RAG templates (HF's `documents`)


def tools_of(record: Record) -> list[dict] | None:
    raw = record.get("tools")
    if not raw:
        return None
    try:
        tools = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as e:
        raise ValueError(f"row {record.get('id')}: the tools field is not valid JSON: {e.msg}") from None
    if isinstance(tools, dict):
        tools = [tools]
    return tools or None


def to_message(turn: Turn, *, split_reasoning: bool = False) -> dict:
    msg: dict = {"role": turn.get("role"), "content": turn.get("content")}
    if split_reasoning and turn.get("reasoning") is None and msg["role"] == "assistant" and isinstance(
            msg["content"], str):
        msg["content"], inline = split_inline_reasoning(msg["content"])
        if inline is not None:
            msg["reasoning_content"] = inline
    if turn.get("name") is not None:
        msg["name"] = turn["name"]
    if turn.get("reasoning") is not None:
        msg["reasoning_content"] = turn["reasoning"]
    if turn.get("tool_calls"):
        msg["tool_calls"] = [_tool_call(c) for c in turn["tool_calls"]]
    if turn.get("tool_call_id") is not None:
        msg["tool_call_id"] = turn["tool_call_id"]
    return {k: v for k, v in msg.items() if v is not None}


def _tool_call(call: dict) -> dict:
    if "function" in call:  # already in the HF shape
        return call
    args = call.get("arguments")
    if isinstance(args, str):
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            pass  # keep the text: some datasets store free-form arguments
    out = {"type": "function", "function": {"name": call.get("name"), "arguments": args}}
    if call.get("id") is not None:
        out["id"] = call["id"]
    return out


def conversations(record: Record, *, split_reasoning: bool = False) -> list[Conversation]:
    """The conversations a template renders for this record (see the module doc)."""
    if record.get("kind") == "text":
        return []
    tools = tools_of(record)
    prompt: list[Turn] = []
    if record.get("system"):
        prompt.append({"role": "system", "content": record["system"]})
    prompt += list(record.get("messages") or ())
    if record.get("kind") == "preference":
        out = []
        for side in ("chosen", "rejected"):
            turns = prompt + list(record.get(side) or ())
            out.append(Conversation(side, [to_message(t, split_reasoning=split_reasoning) for t in turns], turns,
                                    len(prompt), tools))
        return out
    return [Conversation("conversation", [to_message(t, split_reasoning=split_reasoning) for t in prompt], prompt,
                         len(prompt), tools)]
