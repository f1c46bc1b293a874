"""TRL-style rows: `prompt` + `chosen` + `rejected` (preference), `prompt` + `completion`
(+ boolean `label` for KTO), each a string or a list of messages.

Also the "implicit prompt" shape of UltraFeedback-binarized, where `chosen` and `rejected`
repeat the prompt turns: the shared turns become the record's messages; and OpenAI's
preference fine-tuning layout, `input` {"messages", "tools"?, ...} + `preferred_output` +
`non_preferred_output`, read as prompt / chosen / rejected and written back in that layout.
"""

from __future__ import annotations

from typing import Any

from workbench.data.formats.base import RowError, is_role_list, same, system_lift
from workbench.data.formats.messages import build_tools_images, build_turns, compact, parse_tools_images, parse_turns

NAME = "trl"


OAI_SIDES = ("preferred_output", "non_preferred_output")


def _oai(row: dict) -> bool:
    return all(k in row for k in OAI_SIDES) and isinstance(row.get("input"), dict)


def detect(row: dict) -> float:
    if _oai(row):
        return 0.95
    has = row.keys()
    if "chosen" in has and "rejected" in has:
        if is_role_list(row["chosen"]) or is_role_list(row["rejected"]):
            return 0.95
        if "prompt" in has and not _hh_like(row["chosen"]):
            return 0.9
    if "prompt" in has and "completion" in has:
        if is_role_list(row["prompt"]) or is_role_list(row["completion"]):
            return 0.9
        return 0.75 if "label" in has else 0.6
    return 0.0


def _hh_like(v: Any) -> bool:
    return isinstance(v, str) and "\n\nHuman:" in v[:200]


def _side(value: Any, what: str, role: str) -> tuple[list[dict], list[dict], bool]:
    """(turns, hints, was_string) for a string or a list of messages."""
    if isinstance(value, str):
        return [{"role": role, "content": value}], [{}], True
    if isinstance(value, list):
        turns, hints = parse_turns(value, what)
        return turns, hints, False
    raise RowError(f"{what} is {'missing' if value is None else 'not a string or a list of messages'}")


def parse(row: dict) -> tuple[dict, set, dict]:
    if _oai(row):  # OpenAI's layout: read as the TRL row it spells, and remember the spelling
        inp = row["input"]
        trl_row = {"prompt": inp.get("messages"), "chosen": row[OAI_SIDES[0]], "rejected": row[OAI_SIDES[1]]}
        if "tools" in inp:
            trl_row["tools"] = inp["tools"]
        fields, _, h = parse(trl_row)
        h["oai"] = {"keys": list(inp), "extra": {k: v for k, v in inp.items() if k not in ("messages", "tools")}}
        return fields, {"input", *OAI_SIDES}, h
    h: dict = {}
    used: set = set()
    if "prompt" in row:
        p_turns, p_hints, h["pstr"] = _side(row["prompt"], "prompt", "user")
        used.add("prompt")
    else:
        p_turns, p_hints = [], []
        h["noprompt"] = True
    if "completion" in row:
        c_turns, c_hints, h["cstr"] = _side(row["completion"], "completion", "assistant")
        used.add("completion")
        fields: dict = {"kind": "sft"}
        if isinstance(row.get("label"), bool):
            fields.update(kind="kto", label=row["label"])
            used.add("label")
        h["split"] = len(p_turns)
        turns, hints = p_turns + c_turns, p_hints + c_hints
    else:
        if "chosen" not in row or "rejected" not in row:
            raise RowError("missing field 'chosen' or 'rejected' (or 'completion')")
        ch, ch_h, h["chstr"] = _side(row["chosen"], "chosen", "assistant")
        rj, rj_h, h["rjstr"] = _side(row["rejected"], "rejected", "assistant")
        used |= {"chosen", "rejected"}
        n = len(p_turns)
        if n and len(ch) > n and len(rj) > n and same(ch[:n], p_turns) and same(rj[:n], p_turns):
            h["repeat"] = [ch_h[:n], rj_h[:n]]  # UltraFeedback: chosen/rejected restate the prompt
            ch, ch_h, rj, rj_h = ch[n:], ch_h[n:], rj[n:], rj_h[n:]
        elif not n:  # no prompt field: the turns both sides share are the prompt
            k = 0
            while k < min(len(ch), len(rj)) - 1 and same(ch[k], rj[k]):
                k += 1
            p_turns, p_hints = ch[:k], ch_h[:k]
            h["shared"] = [ch_h[:k], rj_h[:k]]
            ch, ch_h, rj, rj_h = ch[k:], ch_h[k:], rj[k:], rj_h[k:]
        fields = {"kind": "preference", "chosen": ch, "rejected": rj}
        if compact(ch_h):
            h["ch"] = ch_h
        if compact(rj_h):
            h["rj"] = rj_h
        turns, hints = p_turns, p_hints
    system, rest = system_lift(turns)
    if system is not None:
        h["sys"] = hints[0]
        hints = hints[1:]
        if "split" in h:
            h["split"] -= 1
    fields.update(system=system, messages=rest)
    if compact(hints):
        h["turns"] = hints
    used |= parse_tools_images(row, fields, h)
    for k in ("pstr", "cstr", "chstr", "rjstr"):
        if not h.get(k):
            h.pop(k, None)
    return fields, used, h


def _as(turns: list[dict], hints: list | None, as_str: bool, role: str) -> Any:
    if as_str and len(turns) == 1 and turns[0]["role"] == role and set(turns[0]) <= {"role", "content"}:
        return turns[0]["content"]
    return build_turns(turns, hints)


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    turns = list(rec.get("messages") or [])
    hints = list(h.get("turns") or [None] * len(turns))
    if rec.get("system") is not None:
        turns.insert(0, {"role": "system", "content": rec["system"]})
        hints.insert(0, h.get("sys") or {})
    out: dict = {}
    kind = rec["kind"]
    if kind in ("sft", "kto"):
        split = h.get("split", _last_user(rec.get("messages") or []))
        if rec.get("system") is not None:
            split += 1
        if not h.get("noprompt"):
            out["prompt"] = _as(turns[:split], hints[:split], h.get("pstr", False), "user")
        out["completion"] = _as(turns[split:], hints[split:], h.get("cstr", False), "assistant")
        if kind == "kto":
            out["label"] = rec.get("label")
    elif kind == "preference":
        ch, rj = list(rec.get("chosen") or []), list(rec.get("rejected") or [])
        ch_h, rj_h = list(h.get("ch") or [None] * len(ch)), list(h.get("rj") or [None] * len(rj))
        if not h.get("noprompt"):
            out["prompt"] = _as(turns, hints, h.get("pstr", False), "user")
        pre = h.get("repeat") or h.get("shared")
        if pre is not None or h.get("noprompt"):
            pre = pre or [[None] * len(turns)] * 2
            ch, ch_h = turns + ch, list(pre[0]) + ch_h
            rj, rj_h = turns + rj, list(pre[1]) + rj_h
        out["chosen"] = _as(ch, ch_h, h.get("chstr", False), "assistant")
        out["rejected"] = _as(rj, rj_h, h.get("rjstr", False), "assistant")
    else:
        raise RowError(f"a {kind} row has no TRL form")
    build_tools_images(rec, out, h)
    if "oai" in h and kind == "preference":
        inp = {"messages": out.pop("prompt", []), **h["oai"]["extra"]}
        if "tools" in out:
            inp["tools"] = out.pop("tools")
        keys = h["oai"]["keys"]
        inp = dict(sorted(inp.items(), key=lambda kv: keys.index(kv[0]) if kv[0] in keys else len(keys)))
        out = {"input": inp, OAI_SIDES[0]: out.pop("chosen"), OAI_SIDES[1]: out.pop("rejected"), **out}
    return out, []


def _last_user(turns: list[dict]) -> int:
    """Index after the last user turn: where the completion starts."""
    for i in range(len(turns) - 1, -1, -1):
        if turns[i]["role"] == "user":
            return i + 1
    return 0


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
