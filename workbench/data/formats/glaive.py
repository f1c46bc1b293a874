"""Glaive function calling (glaiveai/glaive-function-calling-v2): a `system` string
("SYSTEM: ... functions ...") and a `chat` transcript of "USER: ...", "ASSISTANT: ...
<|endoftext|>" and "FUNCTION RESPONSE: ..." blocks separated by two blank lines (some
rows use one newline; a row's longest separator splits the whole row), where an
assistant's "<functioncall> {...}" is a tool call whose arguments are a quoted JSON string.

Read so that such rows join the other formats; the function schemas stay in the system
prompt, where the source put them.
"""

from __future__ import annotations

import json
import re

from workbench.data.formats.base import RowError, dump_args, need_str

NAME = "glaive"

_ROLE = r"(USER|ASSISTANT|FUNCTION RESPONSE): "
_BLOCK = re.compile(r"^" + _ROLE)
_SEP = re.compile(r"(\n+)" + _ROLE)
SEP = "\n\n\n"
_CALL = re.compile(r'<functioncall>\s*(\{.*\})\s*$', re.S)
_QUOTED_ARGS = re.compile(r'^\{\s*"name":\s*"([^"]+)",\s*"arguments":\s*\'(.*)\'\s*\}$', re.S)
END = " <|endoftext|>"
ROLES = {"USER": "user", "ASSISTANT": "assistant", "FUNCTION RESPONSE": "tool"}
NAMES = {v: k for k, v in ROLES.items()}


def detect(row: dict) -> float:
    chat = row.get("chat")
    return 0.9 if isinstance(chat, str) and _BLOCK.match(chat) else 0.0


def _call(text: str) -> dict | None:
    m = _CALL.match(text)
    if not m:
        return None
    body = m.group(1)
    q = _QUOTED_ARGS.match(body)
    if q:
        return {"name": q.group(1), "arguments": q.group(2)}
    try:
        obj = json.loads(body)
    except ValueError:
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
        return None
    return {"name": obj["name"], "arguments": dump_args(obj.get("arguments", {}))}


def parse(row: dict) -> tuple[dict, set, dict]:
    chat = need_str(row.get("chat"), "'chat'")
    # the longest run, so that a quoted "\nASSISTANT: " inside a turn is not taken for one
    sep = max((m.group(1) for m in _SEP.finditer(chat)), key=len, default=SEP)
    parts = re.split(f"(?:^|{sep}){_ROLE}", chat)
    if parts[0]:
        raise RowError("'chat' must start with 'USER:'")
    turns = []
    for role, text in zip(parts[1::2], parts[2::2]):
        text = text.rstrip("\n")
        if role == "ASSISTANT":
            text = text.removesuffix(END).removesuffix(END.strip())
            call = _call(text)
            if call:
                turns.append({"role": "assistant", "content": "", "tool_calls": [call]})
                continue
        turns.append({"role": ROLES[role], "content": text})
    system = row.get("system")
    if isinstance(system, str):
        system = system.removeprefix("SYSTEM: ")
    fields = {"kind": "sft", "system": system if isinstance(system, str) else None, "messages": turns}
    used = {"chat"} | ({"system"} if isinstance(row.get("system"), str) else set())
    return fields, used, ({"sep": sep} if sep != SEP else {})


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    lost: set = set()
    blocks = []
    for t in rec.get("messages") or []:
        if t["role"] not in NAMES:
            lost.add(f"{t['role']} turns")
            continue
        text = t["content"]
        if t.get("reasoning"):
            lost.add("reasoning")
        if t.get("tool_calls"):
            c = t["tool_calls"][0]
            text = f'<functioncall> {{"name": "{c["name"]}", "arguments": \'{c["arguments"]}\'}}'
            if len(t["tool_calls"]) > 1:
                lost.add("parallel tool calls")
        if t["role"] == "assistant":
            text += END
        blocks.append(f"{NAMES[t['role']]}: {text}")
    if rec.get("tools"):
        lost.add("tool schemas (glaive lists them in the system prompt)")
    if rec.get("images"):
        lost.add("images")
    if rec["kind"] != "sft":
        lost.add(f"the {rec['kind']} sides and labels")
    out = {}
    if rec.get("system") is not None:
        out["system"] = "SYSTEM: " + rec["system"]
    sep = h.get("sep", SEP)
    out["chat"] = sep.join(blocks) + sep
    return out, sorted(lost)


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
