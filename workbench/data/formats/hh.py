"""Anthropic HH style: `chosen` / `rejected` transcripts of "\n\nHuman: ...\n\nAssistant: ...".

The turns both transcripts share are the prompt (the record's messages); what follows is
each side's continuation. A single transcript in `text` (with an optional boolean `label`)
reads as an SFT (or KTO) conversation.
"""

from __future__ import annotations

import re
from typing import Any

from workbench.data.formats.base import RowError, join_think, kto_label, need_str, same

NAME = "hh"

_SPLIT = re.compile(r"\n\n(Human|Assistant):")
ROLES = {"Human": "user", "Assistant": "assistant"}
NAMES = {"user": "Human", "assistant": "Assistant"}


def is_transcript(v: Any) -> bool:
    return isinstance(v, str) and (v.startswith("\n\nHuman:") or v.startswith("Human:"))


def detect(row: dict) -> float:
    if is_transcript(row.get("chosen")) and isinstance(row.get("rejected"), str):
        return 0.95
    if is_transcript(row.get("text")):
        return 0.7
    return 0.0


def parse_transcript(s: str, what: str) -> list[dict]:
    parts = _SPLIT.split(s if s.startswith("\n\n") else "\n\n" + s)
    if parts[0].strip():
        raise RowError(f"{what} must start with 'Human:'")
    turns = []
    for role, text in zip(parts[1::2], parts[2::2]):
        text = text[1:] if text.startswith(" ") else text
        turns.append({"role": ROLES[role], "content": text})  # a <think> block stays in the text
    if not turns:
        raise RowError(f"{what} has no 'Human:' or 'Assistant:' turn")
    return turns


def transcript(turns: list[dict], lost: set) -> str:
    out = []
    for t in turns:
        if t["role"] not in NAMES:
            lost.add(f"{t['role']} turns")
            continue
        if t.get("tool_calls"):
            lost.add("tool calls")
            if not t["content"]:
                continue
        text = join_think(t["content"], t["reasoning"]) if t.get("reasoning") is not None else t["content"]
        out.append(f"\n\n{NAMES[t['role']]}: {text}")
    return "".join(out)


def parse(row: dict) -> tuple[dict, set, dict]:
    if "chosen" in row:
        ch = parse_transcript(need_str(row["chosen"], "'chosen'"), "'chosen'")
        rj = parse_transcript(need_str(row.get("rejected"), "'rejected'"), "'rejected'")
        k = 0
        while k < min(len(ch), len(rj)) - 1 and same(ch[k], rj[k]):
            k += 1
        fields = {"kind": "preference", "messages": ch[:k], "chosen": ch[k:], "rejected": rj[k:]}
        return fields, {"chosen", "rejected"}, {}
    turns = parse_transcript(need_str(row.get("text"), "'text'"), "'text'")
    fields = {"kind": "sft", "messages": turns}
    used = {"text"}
    if kto_label(row.get("label")) is not None:
        fields.update(kind="kto", label=kto_label(row["label"]))
        used.add("label")
    return fields, used, {}


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    lost: set = set()
    if rec.get("system"):
        lost.add("system prompt")
    if rec.get("tools"):
        lost.add("tool schemas")
    msgs = rec.get("messages") or []
    if rec["kind"] == "preference":
        out = {"chosen": transcript(msgs + (rec.get("chosen") or []), lost),
               "rejected": transcript(msgs + (rec.get("rejected") or []), lost)}
    else:
        out = {"text": transcript(msgs, lost)}
        if rec["kind"] == "kto":
            out["label"] = rec.get("label")
    if rec.get("images") is not None:
        out["images"] = rec["images"]
    return out, sorted(lost)


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
