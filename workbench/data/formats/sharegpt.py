"""ShareGPT: {"conversations": [{"from", "value"}], "system"?, "tools"?}.

Roles human, gpt, system, function_call (an assistant tool call whose value is the JSON
call) and observation (a tool result), plus the spellings seen in public dumps (user,
assistant, chatgpt, bing, tool...). Text said with a call and its reasoning fold into the
function_call value as LLaMA-Factory (0.9.4+) reads them, "<think>…</think>text<tool_call>
JSON</tool_call>", so one assistant turn stays one turn (a gpt turn followed by a bare
function_call, as older writers split it, reads as one turn too). `tools` is a JSON string,
as LLaMA-Factory reads it. Preference rows carry `chosen` / `rejected` turn objects; KTO
rows a boolean `kto_tag`. A <think> block in a gpt value stays in its text, as the trainer reads it. Also reads
the pair style of Capybara ({"conversation": [{"input", "output"}]}) and LIMA's plain
strings ({"conversations": [user, assistant, user, ...]})."""

from __future__ import annotations

import json
import re
from typing import Any

from workbench.data.formats.base import (
    DEFAULT_THINK, WEIGHT_KEYS, RowError, is_role_list, join_think, load_args, need_list, resolve_role, take_kto_label,
    take_weight, reorder, split_think, write_weight,
)
from workbench.data.formats.messages import build_tools_images, compact, parse_tools_images

NAME = "sharegpt"

ROLES_IN = {
    "human": "user", "user": "user",
    "gpt": "assistant", "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant",
    "bard": "assistant", "model": "assistant",
    "system": "system",
    "function_call": "function_call",
    "observation": "tool", "tool": "tool", "function": "tool",
}
ROLES_OUT = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}
LABEL_KEYS = ("kto_tag", "label")


def detect(row: dict) -> float:
    conv = row.get("conversations")
    if is_role_list(conv, "from"):
        return 0.92
    if is_role_list(conv, "role"):
        return 0.85
    if is_role_list(row.get("conversation"), "input") or _strings(conv):
        return 0.85
    return 0.3 if isinstance(conv, list) else 0.0  # a conversation, maybe broken


def _strings(conv: Any) -> bool:
    return isinstance(conv, list) and bool(conv) and all(isinstance(t, str) for t in conv)


def _parse_turn(t: Any, where: str) -> tuple[dict, dict]:
    if not isinstance(t, dict):
        raise RowError(f"{where} is not an object")
    hint: dict = {}
    if "from" in t:
        rk, vk = "from", "value"
    elif "role" in t:
        rk, vk = "role", "content"
        hint["tags"] = 1
    else:
        raise RowError(f"{where} has no 'from'")
    raw_role, value = t[rk], t.get(vk)
    role, mapped = resolve_role(raw_role, ROLES_IN, where)
    if not isinstance(value, str):
        raise RowError(f"{where} has no '{vk}' string")
    if raw_role != (ROLES_OUT.get(role) or role) and not mapped:  # mapped: written the standard way
        hint["role"] = raw_role
    if role == "function_call":
        turn = _parse_call_value(value, hint, where)
    else:
        turn = {"role": role, "content": value}  # a <think> block stays in the text, as the trainer reads it
    take_weight(t, turn, hint, where)
    extra = {k: v for k, v in t.items() if k not in (rk, vk, *WEIGHT_KEYS)}
    if extra:
        hint["extra"] = extra
    if list(t)[:2] != [rk, vk]:
        hint["keys"] = list(t)
    return turn, hint


# LLaMA-Factory (0.9.4+) reads text next to a call from a function_call value as text around
# "<tool_call>JSON</tool_call>", and reasoning as a <think> block in front (its FunctionFormatter).
_CALL_TAGS = ("<tool_call>", "</tool_call>")
_TAGGED = re.compile(re.escape(_CALL_TAGS[0]) + "(.*?)" + re.escape(_CALL_TAGS[1]), re.S)


def _parse_call_value(value: str, hint: dict, where: str) -> dict:
    """A function_call value -> one assistant turn with its text, reasoning and calls."""
    rest, reasoning, style = split_think(value)
    m = _TAGGED.search(rest)
    text = ""
    if m:
        text, body = rest[:m.start()] + rest[m.end():], m.group(1)
        if m.end() < len(rest):
            hint["tail"] = len(rest) - m.end()
        if not text:
            hint["ctags"] = 1
    else:
        body = rest
    call = load_args(body)
    calls = call if isinstance(call, list) else [call]
    if not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in calls):
        raise RowError(f"{where}: a function_call value must be JSON with a 'name'")
    turn: dict = {"role": "assistant", "content": text, "tool_calls": [
        {"name": c["name"], "arguments": json.dumps(c.get("arguments", {}), ensure_ascii=False)
         if not isinstance(c.get("arguments"), str) else c["arguments"]} for c in calls]}
    if isinstance(call, list):
        hint["many"] = 1
    if reasoning is not None:
        turn["reasoning"] = reasoning
        if style != DEFAULT_THINK:
            hint["think"] = style
    return turn


def _call_value(turn: dict, hint: dict) -> str:
    """One assistant turn with tool calls as one function_call value (text and reasoning folded
    in as LLaMA-Factory reads them), so that no turn is split in two."""
    calls = turn["tool_calls"]
    objs = [{"name": c["name"], "arguments": load_args(c["arguments"])} for c in calls]
    value = json.dumps(objs if (len(objs) > 1 or hint.get("many")) else objs[0], ensure_ascii=False)
    text = turn.get("content") or ""
    if text or hint.get("ctags"):
        cut = len(text) - min(hint.get("tail", 0), len(text))
        value = text[:cut] + _CALL_TAGS[0] + value + _CALL_TAGS[1] + text[cut:]
    if turn.get("reasoning") is not None:
        value = join_think(value, turn["reasoning"], hint.get("think"))
    return value


def _build_turn(turn: dict, hint: dict | None, lost: set) -> list[dict]:
    hint = hint or {}
    if "apart" in hint and turn.get("tool_calls"):  # the source's gpt + function_call pair again
        text = {k: v for k, v in turn.items() if k != "tool_calls"}
        call = {"role": "assistant", "content": "", "tool_calls": turn["tool_calls"]}
        own = {k: v for k, v in hint.items() if k != "apart"}
        return _build_turn(text, own, lost) + _build_turn(call, hint["apart"], lost)
    rk, vk = ("role", "content") if hint.get("tags") else ("from", "value")
    content = turn.get("content") or ""
    calls = turn.get("tool_calls")
    if calls:
        out = {rk: hint.get("role", "function_call"), vk: _call_value(turn, hint)}
        if any("id" in c for c in calls):
            lost.add("tool call ids")
    else:
        if turn.get("reasoning") is not None:
            content = join_think(content, turn["reasoning"], hint.get("think"))
        out = {rk: hint.get("role") or ROLES_OUT[turn["role"]], vk: content}
    if "train" in turn or "w" in hint:
        out[hint["w"][0] if "w" in hint else "weight"] = write_weight(turn.get("train"), hint.get("w"))
    out.update(hint.get("extra") or {})
    if turn.get("name"):
        lost.add("turn names")
    if turn.get("tool_call_id"):
        lost.add("tool call ids")
    return [reorder(out, hint.get("keys"))]


def _parse_turns(turns: Any, what: str) -> tuple[list[dict], list[dict]]:
    turns = need_list(turns, what)
    parsed = [_parse_turn(t, f"{what} turn {i + 1}") for i, t in enumerate(turns)]
    return _join_calls([p[0] for p in parsed], [p[1] for p in parsed])


_PLAIN_CALL_HINTS = {"many", "role", "keys", "tags"}  # what a bare function_call turn may carry to be joined


def _join_calls(turns: list[dict], hints: list[dict]) -> tuple[list[dict], list[dict]]:
    """A gpt turn followed by a bare function_call turn is one assistant turn that says
    something and calls a tool (older writers split it; LLaMA-Factory rejects the split
    order): joined, with the split remembered so that the source's row is written back."""
    i = 0
    while i + 1 < len(turns):
        a, b = turns[i], turns[i + 1]
        if (a["role"] == "assistant" and not a.get("tool_calls") and b["role"] == "assistant"
                and b.get("tool_calls") and not b["content"] and "reasoning" not in b and "train" not in b
                and set(hints[i + 1]) <= _PLAIN_CALL_HINTS):
            turns[i:i + 2] = [{**a, "tool_calls": b["tool_calls"]}]
            hints[i:i + 2] = [{**hints[i], "apart": hints[i + 1]}]
        i += 1
    return turns, hints


def _build_turns(turns: list[dict], hints: list | None, lost: set) -> list[dict]:
    hints = hints or []
    out: list[dict] = []
    for i, t in enumerate(turns):
        out += _build_turn(t, hints[i] if i < len(hints) else None, lost)
        if t["role"] == "tool" and i and turns[i - 1]["role"] == "tool":
            lost.add("the order LLaMA-Factory accepts (two observations in a row: it skips the row)")
    return out


def _side(value: Any, what: str) -> tuple[list[dict], Any]:
    """A preference side: one turn object (LLaMA-Factory) or a list of turns."""
    if isinstance(value, dict):
        turns, hints = _parse_turns([value], what)
        return turns, {"one": 1, "h": hints[0]} if hints[0] else {"one": 1}
    turns, hints = _parse_turns(value, what)
    return turns, {"h": hints} if compact(hints) else {}


def parse(row: dict) -> tuple[dict, set, dict]:
    h: dict = {}
    if _strings(row.get("conversations")):  # LIMA: turns alternate, user first
        roles = ("user", "assistant")
        turns = [{"role": roles[i % 2], "content": t} for i, t in enumerate(row["conversations"])]
        hints = [{}] * len(turns)
        h["strs"] = 1
        used = {"conversations"}
    elif "conversations" in row:
        turns, hints = _parse_turns(row["conversations"], "conversations")
        used = {"conversations"}
    elif "conversation" in row:  # Capybara: [{"input", "output"}]
        turns, hints, pair_hint = _parse_pairs(row["conversation"])
        h["pairs"] = pair_hint or 1
        used = {"conversation"}
    else:
        raise RowError("missing field 'conversations'")
    system = None
    if isinstance(row.get("system"), str):
        system = row["system"]
        used.add("system")
    elif turns and turns[0]["role"] == "system":
        system = turns[0]["content"]
        h["sys"] = hints[0]
        turns, hints = turns[1:], hints[1:]
    fields: dict = {"kind": "sft", "system": system, "messages": turns}
    if "chosen" in row or "rejected" in row:
        if "chosen" not in row or "rejected" not in row:
            raise RowError("a preference row needs both 'chosen' and 'rejected'")
        fields["kind"] = "preference"
        fields["chosen"], h["ch"] = _side(row["chosen"], "chosen")
        fields["rejected"], h["rj"] = _side(row["rejected"], "rejected")
        used |= {"chosen", "rejected"}
    else:
        take_kto_label(row, fields, h, used, LABEL_KEYS)
    if compact(hints):
        h["turns"] = hints
    used |= parse_tools_images(row, fields, h, as_text=True)
    return fields, used, h


def _parse_pairs(pairs: Any) -> tuple[list[dict], list[dict], list | None]:
    pairs = need_list(pairs, "conversation")
    turns, extras = [], []
    for i, p in enumerate(pairs):
        if not isinstance(p, dict) or not isinstance(p.get("input"), str) or not isinstance(p.get("output"), str):
            raise RowError(f"conversation pair {i + 1} needs 'input' and 'output' strings")
        turns += [{"role": "user", "content": p["input"]}, {"role": "assistant", "content": p["output"]}]
        extras.append({k: v for k, v in p.items() if k not in ("input", "output")} or None)
    return turns, [{}] * len(turns), extras if any(extras) else None


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    lost: set = set()
    turns = list(rec.get("messages") or [])
    hints = list(h.get("turns") or [None] * len(turns))
    out: dict = {}
    if rec.get("system") is not None:
        if "sys" in h:
            turns.insert(0, {"role": "system", "content": rec["system"]})
            hints.insert(0, h["sys"])
        else:
            out["system"] = rec["system"]
    if "pairs" in h:
        out["conversation"] = _build_pairs(turns, h["pairs"], lost)
    elif "strs" in h:
        out["conversations"] = _build_strings(turns, lost)
    else:
        out["conversations"] = _build_turns(turns, hints, lost)
    if rec["kind"] == "preference":
        for key, hk in (("chosen", "ch"), ("rejected", "rj")):
            side, sh = rec.get(key) or [], h.get(hk) or {}
            if sh.get("one") and len(side) == 1:
                built = _build_turns(side, [sh.get("h")], lost)
                out[key] = built[0] if len(built) == 1 else built
            elif len(side) == 1 and not sh:
                out[key] = _build_turns(side, None, lost)[0]
            else:
                out[key] = _build_turns(side, sh.get("h"), lost)
    elif rec["kind"] == "kto":
        out[h.get("lkey", "kto_tag")] = rec.get("label")
    build_tools_images(rec, out, h, as_text=True)
    return out, sorted(lost)


def _build_strings(turns: list[dict], lost: set) -> list[str]:
    out = []
    for i, t in enumerate(turns):
        if t["role"] != ("user", "assistant")[i % 2] or t.get("tool_calls"):
            lost.add("turns that do not alternate user/assistant")
            continue
        out.append(join_think(t["content"], t["reasoning"]) if t.get("reasoning") is not None else t["content"])
    return out


def _build_pairs(turns: list[dict], extras: Any, lost: set) -> list[dict]:
    extras = extras if isinstance(extras, list) else []
    pairs = []
    for i in range(0, len(turns) - 1, 2):
        u, a = turns[i], turns[i + 1]
        if u["role"] != "user" or a["role"] != "assistant":
            lost.add("turns that are not user/assistant pairs")
            continue
        ans = join_think(a["content"], a["reasoning"]) if a.get("reasoning") is not None else a["content"]
        pair = {"input": u["content"], "output": ans}
        j = i // 2
        pair.update((extras[j] if j < len(extras) else None) or {})
        pairs.append(pair)
    if len(turns) % 2:
        lost.add("an unanswered last turn")
    return pairs


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
