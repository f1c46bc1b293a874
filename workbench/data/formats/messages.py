"""OpenAI / Hugging Face chat messages: {"messages": [{"role", "content", ...}], ...}.

Content is a string or a list of parts ({"type": "text" | "reasoning" | "tool_call", "text" or
"value": ...}; LLaMA-Factory's v1 data spells parts with "value" and a tool_call part's value
as the JSON text of {"name", "arguments"}); assistant turns may carry `tool_calls`; `tool`
turns answer them. Reasoning
held apart (reasoning parts, a `reasoning_content`, `reasoning` or `thinking` field) is kept
apart from the answer; a <think> block inside the content stays in the content, as the trainer
reads it (templates.render splits it only when asked). A per-message
`loss_weight` / `train` / `weight` becomes turn["train"]; a boolean `label` / `kto_tag`
marks a KTO row. Also used for the turns of TRL preference rows (see trl.py).
"""

from __future__ import annotations

import json
from typing import Any

from workbench.data.formats.base import (
    WEIGHT_KEYS, RowError, dump_args, is_role_list, json_kind, load_args, need_list, take_kto_label, take_weight,
    reorder, resolve_role, system_lift, system_turn, user_roles_active, write_weight,
)

NAME = "openai"

ROLES_IN = {
    "system": "system", "developer": "system", "user": "user", "assistant": "assistant",
    "tool": "tool", "function": "tool", "ipython": "tool",
}
_PLAIN = {"system", "user", "assistant", "tool"}  # roles spelled as the canonical names
REASONING_KEYS = ("reasoning_content", "reasoning", "thinking")
TURN_KEYS = {"role", "content", "name", "tool_calls", "tool_call_id", *REASONING_KEYS, *WEIGHT_KEYS}
LABEL_KEYS = ("label", "kto_tag")


def detect(row: dict) -> float:
    if is_role_list(row.get("messages")):
        return 0.9
    return 0.3 if isinstance(row.get("messages"), list) else 0.0  # messages, maybe broken


# -- turns ------------------------------------------------------------------------------


def _parse_call(c: Any, where: str) -> dict:
    if not isinstance(c, dict):
        raise RowError(f"{where}: a tool call must be an object")
    fn = c.get("function") if isinstance(c.get("function"), dict) else c
    name = fn.get("name")
    if not isinstance(name, str):
        raise RowError(f"{where}: tool call has no 'name'")
    call = {"name": name, "arguments": dump_args(fn.get("arguments", fn.get("parameters", {})))}
    if c.get("id") is not None:
        call = {"id": str(c["id"]), **call}
    return call


def _part_call(value: Any, where: str) -> tuple[dict, bool]:
    """A `tool_call` content part's value: LLaMA-Factory (v1 data) writes the JSON text of
    {"name", "arguments": {...}}; an object is read as well. Returns (call, spelled with
    non-ASCII characters as they are) so that the writer spells the string the same way."""
    if not isinstance(value, str):
        return _parse_call(value, where), False
    try:
        obj = json.loads(value)
    except ValueError:
        raise RowError(f"{where}: a tool_call part's value is not JSON") from None
    call = _parse_call(obj, where)
    return call, value != _dump_part_call(call, True)


def _dump_part_call(call: dict, ascii: bool) -> str:
    return json.dumps({"name": call["name"], "arguments": load_args(call["arguments"])}, ensure_ascii=ascii)


def _build_call(call: dict) -> dict:
    out = {"type": "function", "function": {"name": call["name"], "arguments": call["arguments"]}}
    return {"id": call["id"], **out} if "id" in call else out


def parse_turn(t: Any, where: str) -> tuple[dict, dict]:
    """One source message -> (canonical turn, spelling hint)."""
    if type(t) is dict and len(t) == 2 and not user_roles_active():  # the common {"role", "content"} turn, quickly
        role, content = t.get("role"), t.get("content")
        if type(content) is str and type(role) is str and role in _PLAIN:
            return {"role": role, "content": content}, ({} if next(iter(t)) == "role" else {"keys": list(t)})
    if not isinstance(t, dict):
        raise RowError(f"{where} is not an object")
    raw_role = t.get("role")
    if raw_role is None:
        raise RowError(f"{where} has no 'role'")
    role, mapped = resolve_role(raw_role, ROLES_IN, where)
    hint: dict = {}
    if raw_role != role and not mapped:  # a spelling the user mapped is written the standard way
        hint["role"] = raw_role
    content = t.get("content")
    reasoning = None
    calls: list[dict] = []
    if content is None:
        text = ""
        hint["null" if "content" in t else "nocontent"] = True
    elif isinstance(content, str):
        text = content
    elif isinstance(content, list):
        texts, thoughts = [], []
        part_key = "text"
        for j, p in enumerate(content):
            if isinstance(p, str):
                texts.append(p)
                continue
            if not isinstance(p, dict):
                raise RowError(f"{where}: content part {j + 1} is not an object")
            kind = p.get("type")
            if "text" not in p and "value" in p:
                part_key = "value"  # LLaMA-Factory's v1 spelling: {"type", "value"}
            val = p.get("text", p.get("value"))
            if kind in ("text", "reasoning", "thinking") and val is not None and not isinstance(val, str):
                raise RowError(f"{where}: content part {j + 1}'s text is {json_kind(val)}, not a string")
            if kind == "text":
                texts.append(val or "")
            elif kind in ("reasoning", "thinking"):
                thoughts.append(val or "")
            elif kind == "tool_call":
                call, unicode = _part_call(p.get("value", p.get("tool_call", p)), f"{where}: content part {j + 1}")
                calls.append(call)
                hint["tcp"] = 2 if unicode else 1
            # other parts (images, audio) are kept through the row's origin
        text = "".join(texts)
        reasoning = "".join(thoughts) if thoughts else None
        hint["parts"] = part_key if part_key != "text" else True
    else:
        raise RowError(f"{where}: content must be a string or a list of parts")

    turn: dict = {"role": role, "content": text}
    for k in REASONING_KEYS:
        if k in t:
            if t[k] is not None and not isinstance(t[k], str):
                raise RowError(f"{where}: {k} must be a string")
            reasoning = t[k]
            if k != "reasoning_content":
                hint["rkey"] = k
            if reasoning is None:
                hint["rnull"] = True
            break
    if reasoning is not None:
        turn["reasoning"] = reasoning
    if t.get("name") is not None:
        turn["name"] = str(t["name"])
    if t.get("tool_calls") is not None:
        calls += [_parse_call(c, where) for c in need_list(t["tool_calls"], f"{where}: tool_calls")]
    elif "tool_calls" in t:
        hint["tcnull"] = True
    if calls:
        turn["tool_calls"] = calls
    if t.get("tool_call_id") is not None:
        turn["tool_call_id"] = str(t["tool_call_id"])
    take_weight(t, turn, hint, where)
    extra = {k: v for k, v in t.items() if k not in TURN_KEYS}
    if extra:
        hint["extra"] = extra
    keys = list(t)
    if keys != sorted(keys, key=_key_rank):
        hint["keys"] = keys
    return turn, hint


# The key order build_turn writes; extra keys come last, in their own order (sort is stable).
_KEY_ORDER = {k: i for i, k in enumerate(("role", "content", *REASONING_KEYS, "name", "tool_calls", "tool_call_id", *WEIGHT_KEYS))}


def _key_rank(key: str) -> int:
    return _KEY_ORDER.get(key, len(_KEY_ORDER))


def build_turn(turn: dict, hint: dict | None = None) -> dict:
    """A canonical turn -> a source message, spelled as `hint` says (OpenAI style by default)."""
    if not hint and len(turn) == 2:
        return {"role": turn["role"], "content": turn["content"]}
    hint = hint or {}
    out: dict = {"role": hint.get("role") or turn["role"]}
    content, reasoning = turn.get("content") or "", turn.get("reasoning")
    calls = turn.get("tool_calls")
    rkey = hint.get("rkey", "reasoning_content")
    if hint.get("parts"):
        key = "value" if hint["parts"] == "value" else "text"
        parts = []
        if reasoning is not None and "rkey" not in hint and not hint.get("rnull"):
            parts.append({"type": "reasoning", key: reasoning})
            reasoning = None
        if content or not calls:
            parts.append({"type": "text", key: content})
        if calls and hint.get("tcp"):  # calls as content parts, as the source wrote them
            parts += [{"type": "tool_call", "value": _dump_part_call(c, hint["tcp"] == 1)} for c in calls]
            calls = None
        out["content"] = parts
    elif not (hint.get("nocontent") and not content):
        out["content"] = None if (hint.get("null") and not content) else content
    if reasoning is not None or hint.get("rnull"):
        out[rkey] = reasoning
    if "name" in turn:
        out["name"] = turn["name"]
    if calls:
        out["tool_calls"] = [_build_call(c) for c in calls]
    elif hint.get("tcnull"):
        out["tool_calls"] = None
    if "tool_call_id" in turn:
        out["tool_call_id"] = turn["tool_call_id"]
    if "train" in turn or "w" in hint:
        key = hint["w"][0] if "w" in hint else "weight"
        out[key] = write_weight(turn.get("train"), hint.get("w"))
    out.update(hint.get("extra") or {})
    return reorder(out, hint.get("keys"))


def parse_turns(turns: Any, what: str) -> tuple[list[dict], list[dict]]:
    turns = need_list(turns, what)
    parsed = [parse_turn(t, f"{what} turn {i + 1}") for i, t in enumerate(turns)]
    return [p[0] for p in parsed], [p[1] for p in parsed]


def build_turns(turns: list[dict], hints: list[dict] | None) -> list[dict]:
    hints = hints or []
    return [build_turn(t, hints[i] if i < len(hints) else None) for i, t in enumerate(turns)]


def compact(hints: list[dict]) -> list[dict] | None:
    return hints if any(hints) else None


# -- rows -----------------------------------------------------------------------------------


def parse(row: dict) -> tuple[dict, set, dict]:
    turns, hints = parse_turns(row.get("messages"), "messages")
    system, rest = system_lift(turns)
    fields: dict = {"kind": "sft", "system": system, "messages": rest}
    h: dict = {}
    if system is not None:
        h["sys"] = hints[0]
        hints = hints[1:]
    if compact(hints):
        h["turns"] = hints
    used = {"messages"}
    take_kto_label(row, fields, h, used, LABEL_KEYS)
    used |= parse_tools_images(row, fields, h)
    return fields, used, h


def parse_tools_images(row: dict, fields: dict, h: dict, *, as_text: bool = False) -> set:
    """`tools` (a list of schemas or a JSON string) and `images` (a list of strings).
    `as_text`: the format's own spelling of tools is a JSON string (LLaMA-Factory's ShareGPT),
    so a list is the spelling to remember, not a string."""
    used = set()
    tools = row.get("tools")
    if isinstance(tools, (list, dict)):
        fields["tools"] = dump_args(tools)
        used.add("tools")
        if as_text:
            h["tlist"] = True
    elif isinstance(tools, str):
        fields["tools"] = tools
        if not as_text:
            h["tstr"] = True
        used.add("tools")
    images = row.get("images")
    if isinstance(images, list) and all(isinstance(i, str) for i in images):
        fields["images"] = images
        used.add("images")
    return used


def build_tools_images(rec: dict, out: dict, h: dict, *, as_text: bool = False) -> None:
    if rec.get("tools") is not None:
        text = not h.get("tlist") if as_text else h.get("tstr")
        out["tools"] = rec["tools"] if text else load_args(rec["tools"])
    if rec.get("images") is not None:
        out["images"] = rec["images"]


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    lost: list[str] = []
    turns = list(rec.get("messages") or [])
    hints = list(h.get("turns") or [])
    if rec.get("system") is not None:
        turns.insert(0, system_turn(rec["system"], h.get("sys")))
        hints.insert(0, h.get("sys") or {})
    out = {"messages": build_turns(turns, hints)}
    if rec["kind"] == "kto":
        out[h.get("lkey", "label")] = rec.get("label")
    build_tools_images(rec, out, h)
    return out, lost


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
