"""The canonical record: one schema that every dataset format maps into and back out of.

A record is a plain dict (cheap to build, to serialise and to pass between threads):

    id        str            the source's own id field if present, else "<source name>:<row>"
    kind      str            "sft" | "preference" | "kto" | "text"
    system    str | None     system prompt
    messages  list[Turn]     the conversation; for preference rows, the shared prompt turns
    chosen    list[Turn] | None   preference continuation that won
    rejected  list[Turn] | None   preference continuation that lost
    label     bool | None    KTO desirability
    text      str | None     body of a plain-text (pre-training) row
    tools     str | None     JSON string of tool schemas
    images    list[str] | None
    meta      dict           every other source field, restored on export
    origin    dict           how the source spelled things (format, field and role names,
                             key order), so that a writer for the same format restores it
    source    str            the file the row came from
    row       int            0-based row index within that file

A Turn is a dict with `role` (system | user | assistant | tool) and `content` (str), and
optionally `reasoning` (str), `name` (str), `tool_calls` (list of
{"id"?, "name", "arguments": str}), `tool_call_id` (str) and `train` (float weight; absent
means "the template's default").
"""

from __future__ import annotations

import re
from typing import Any, Iterable

KINDS = ("sft", "preference", "kto", "text")
ROLES = ("system", "user", "assistant", "tool")

Record = dict[str, Any]
Turn = dict[str, Any]

# Fields stored as JSON text in the Arrow cache (nested or free-form values).
JSON_FIELDS = ("messages", "chosen", "rejected", "images", "meta", "origin")
SCALAR_FIELDS = ("id", "kind", "system", "label", "text", "tools", "source", "row")
FIELDS = SCALAR_FIELDS + JSON_FIELDS


def make_record(
    *,
    id: str,
    kind: str = "sft",
    system: str | None = None,
    messages: list[Turn] | None = None,
    chosen: list[Turn] | None = None,
    rejected: list[Turn] | None = None,
    label: bool | None = None,
    text: str | None = None,
    tools: str | None = None,
    images: list[str] | None = None,
    meta: dict | None = None,
    origin: dict | None = None,
    source: str = "",
    row: int = 0,
) -> Record:
    """Build a record with every field present, so consumers never need `.get` defaults."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    return {
        "id": id,
        "kind": kind,
        "system": system,
        "messages": list(messages or []),
        "chosen": chosen,
        "rejected": rejected,
        "label": label,
        "text": text,
        "tools": tools,
        "images": images,
        "meta": dict(meta or {}),
        "origin": dict(origin or {}),
        "source": source,
        "row": row,
    }


def turns_text(turns: Iterable[Turn] | None) -> str:
    """Concatenate turn contents (and reasoning) with newlines."""
    parts: list[str] = []
    _turn_parts(turns or (), parts)
    return "\n".join(parts)


def _turn_parts(turns: Iterable[Turn], out: list[str], skip_system: bool = False) -> None:
    """Append each turn's reasoning and content, those not empty, to `out` (the views' pieces:
    joining every side's pieces at once equals joining the sides' turns_text, empty ones left out)."""
    for t in turns:
        if skip_system and t.get("role") == "system":
            continue
        r, c = t.get("reasoning"), t.get("content")
        if r:
            out.append(r)
        if c:
            out.append(c)


def prompt_text(rec: Record) -> str:
    """The prompt side: system prompt and every user turn."""
    parts = [rec["system"]] if rec.get("system") else []
    parts += [t.get("content") or "" for t in rec.get("messages") or () if t.get("role") == "user"]
    return "\n".join(parts)


def answer_text(rec: Record) -> str:
    """The answer side: assistant turns of the conversation, then the chosen continuation."""
    parts = [t.get("content") or "" for t in rec.get("messages") or () if t.get("role") == "assistant"]
    if rec.get("chosen"):
        parts.append(turns_text(rec["chosen"]))
    return "\n".join(p for p in parts if p)


def full_text(rec: Record) -> str:
    """Everything a reader would read: system, turns, both preference sides, plain text."""
    return joined_text(rec.get("kind"), rec.get("system"), rec.get("text"), rec.get("messages"), rec.get("chosen"),
                       rec.get("rejected"), with_system=True)


def joined_text(kind: str | None, system: str | None, text: str | None, messages: Iterable[Turn] | None,
                chosen: Iterable[Turn] | None, rejected: Iterable[Turn] | None, *, with_system: bool) -> str:
    """The `all` view (with_system) or the `conversation` view from a record's fields: a plain
    text row's text, else the system prompt (`all` only) and every turn's reasoning and content
    (the conversation's system turns left out of `conversation`), the empty ones left out,
    joined by newlines. Dataset.texts calls it on columns without building records."""
    if kind == "text":
        return text or ""
    parts = [system] if with_system and system else []
    _turn_parts(messages or (), parts, skip_system=not with_system)
    _turn_parts(chosen or (), parts)
    _turn_parts(rejected or (), parts)
    return "\n".join(parts)


def degenerate_pair(rec: Record) -> str | None:
    """Why a preference pair teaches nothing, or None: "chosen identical to rejected", or one
    side a prefix of the other ("chosen is a prefix of rejected": the same turns cut short, or
    a last answer that stops where the other goes on). Turns compare by role, reasoning,
    content (ends stripped) and tool calls. Used by the filter rule and template lint."""
    chosen, rejected = rec.get("chosen"), rec.get("rejected")
    if rec.get("kind") != "preference" or chosen is None or rejected is None:
        return None
    c, r = _side_key(chosen), _side_key(rejected)
    if c == r:
        return "chosen identical to rejected"
    if r.startswith(c):
        return "chosen is a prefix of rejected"
    if c.startswith(r):
        return "rejected is a prefix of chosen"
    return None


def _side_key(turns: list[Turn]) -> str:
    # Unit separators keep fields apart; a side's text ends with its last content, so a key
    # is a prefix of another exactly when its turns are, its last content cut shorter.
    return "\x1e".join(
        f"{t.get('role')}\x1f{(t.get('reasoning') or '').strip()}\x1f{t.get('tool_calls') or ''}\x1f"
        f"{(t.get('content') or '').strip()}"
        for t in turns
    )


def conversation_text(rec: Record) -> str:
    """What varies from row to row: every turn but system ones, both preference sides, plain
    text; without the system prompt and tool schemas that many rows share word for word."""
    return joined_text(rec.get("kind"), rec.get("system"), rec.get("text"), rec.get("messages"), rec.get("chosen"),
                       rec.get("rejected"), with_system=False)


TEXT_VIEWS = {"prompt": prompt_text, "answer": answer_text, "all": full_text, "conversation": conversation_text}


def view_text(rec: Record, view: str = "all") -> str:
    """Text of one record for an operation that reads text: `prompt`, `answer` or `all`."""
    try:
        return TEXT_VIEWS[view](rec)
    except KeyError:
        raise ValueError(f"unknown text view {view!r}; expected one of {', '.join(TEXT_VIEWS)}") from None


def preview(rec: Record, width: int = 160) -> str:
    """A one-line summary for lists: the first user turn (or the text), whitespace folded."""
    if rec.get("kind") == "text":
        s = rec.get("text") or ""
    else:
        s = next((t.get("content") or "" for t in rec.get("messages") or () if t.get("role") == "user"), "")
        if not s:
            s = full_text(rec)
    return " ".join(s.split())[:width]


def alternation_problem(rec: Record) -> str | None:
    """How the roles break user/assistant alternation, or None.

    System turns may only come first; tool results must follow an assistant turn (or another
    tool result); the conversation starts with the user and, for SFT, ends with the assistant;
    for preference data the prompt ends with the user and each side starts with the assistant.
    """
    msgs = rec.get("messages") or []
    roles = [t.get("role") for t in msgs]
    i = 0
    while i < len(roles) and roles[i] == "system":
        i += 1
    body = roles[i:]
    if "system" in body:
        return f"system turn at position {i + body.index('system')}"
    if not body:
        return "no turns"
    if body[0] != "user":
        return f"starts with {body[0]}, not user"
    prev = None
    for k, role in enumerate(body):
        if role == "tool" and prev not in ("assistant", "tool"):
            return f"tool turn at position {i + k} does not follow an assistant turn"
        if role == prev and role in ("user", "assistant"):
            return f"two {role} turns in a row at position {i + k}"
        if role == "user" and prev == "tool":
            return f"user turn at position {i + k} follows a tool result"
        prev = role
    if rec.get("kind") == "preference" or rec.get("chosen") or rec.get("rejected"):
        if prev != "user":
            return f"prompt ends with {prev}, not user"
        for side in ("chosen", "rejected"):
            turns = rec.get(side) or []
            if turns and turns[0].get("role") != "assistant":
                return f"{side} starts with {turns[0].get('role')}, not assistant"
    elif prev == "user" or prev == "tool":
        return f"ends with {prev}: nothing for the assistant to learn"
    return None


# A reasoning block's tags in an answer's text, in the spellings datasets use: <think> (DeepSeek-R1,
# Qwen3), <|begin_of_thought|> (Bespoke-Stratos, OpenThoughts), <reasoning> (GRPO-style prompts).
REASONING_TAGS = (("<think>", "</think>"), ("<|begin_of_thought|>", "<|end_of_thought|>"),
                  ("<reasoning>", "</reasoning>"))
# A reasoning block (a leading one with .match); its one matching group is the reasoning.
INLINE_REASONING = re.compile(r"\s*(?:%s)\s*" % "|".join(
    f"{re.escape(o)}(.*?){re.escape(c)}" for o, c in REASONING_TAGS), re.S)
# A leading block opened and never closed, its group running to the end of the text: an answer cut
# off while it reasoned. Only the Sample pane shows it as reasoning: split_inline_reasoning leaves
# such an answer whole (Qwen3's template too splits only at a </think>).
UNCLOSED_REASONING = re.compile(r"\s*(?:%s)\Z" % "|".join(
    f"{re.escape(o)}((?:(?!{re.escape(c)}).)*)" for o, c in REASONING_TAGS), re.S)


def split_inline_reasoning(text: str) -> tuple[str, str | None]:
    """(answer, reasoning) when `text` starts with a reasoning block, else (text, None); both stripped of
    the whitespace around the block, as transformers' Qwen3 template splits `<think>` content."""
    m = INLINE_REASONING.match(text)
    if not m:
        return text, None
    return text[m.end():], next(g for g in m.groups() if g is not None).strip()
