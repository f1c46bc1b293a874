"""TRL-style rows: `prompt` + `chosen` + `rejected` (preference), `prompt` + `completion`
(+ boolean `label` for KTO), each a string or a list of messages.

Also the "implicit prompt" shape of UltraFeedback-binarized, where `chosen` and `rejected`
repeat the prompt turns: the shared turns become the record's messages; and OpenAI's
preference fine-tuning layout, `input` {"messages", "tools"?, ...} + `preferred_output` +
`non_preferred_output`, read as prompt / chosen / rejected and written back in that layout;
LLaMA-Factory's v1 DPO rows, `chosen_messages` + `rejected_messages` (both whole
conversations: the turns they share are the prompt), likewise, and axolotl's
chat_template.default rows (`messages` + one-message `chosen` / `rejected`). TRL's prompt-only rows
(`prompt` alone) and stepwise supervision (`prompt`, `completions` steps, `labels`).
"""

from __future__ import annotations

from typing import Any

from workbench.data.formats.base import RowError, is_role_list, kto_label, same, system_lift, system_turn
from workbench.data.formats.messages import build_tools_images, build_turns, compact, parse_tools_images, parse_turns

NAME = "trl"


OAI_SIDES = ("preferred_output", "non_preferred_output")
LF_SIDES = ("chosen_messages", "rejected_messages")  # LLaMA-Factory v1 DPO rows


def _oai(row: dict) -> bool:
    return all(k in row for k in OAI_SIDES) and isinstance(row.get("input"), dict)


def _lf1(row: dict) -> bool:
    return all(isinstance(row.get(k), list) for k in LF_SIDES)


def _stepwise(row: dict) -> bool:
    return "prompt" in row and isinstance(row.get("completions"), list) and isinstance(row.get("labels"), list)


def _one_turn_sides(row: dict) -> bool:
    """axolotl's chat_template.default DPO rows: `messages` + one-message chosen / rejected."""
    return (is_role_list(row.get("messages")) and isinstance(row.get("chosen"), dict)
            and isinstance(row.get("rejected"), dict))


def detect(row: dict) -> float:
    if _oai(row) or _lf1(row) or _one_turn_sides(row):
        return 0.95
    if _stepwise(row):
        return 0.9
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
    if "prompt" in has and not has & _ANSWER_KEYS:  # prompt-only (GRPO, online DPO)
        return 0.8 if is_role_list(row["prompt"]) else 0.35
    return 0.0


# Fields that make a row with a `prompt` something other than prompt-only (alpaca answers).
_ANSWER_KEYS = {"chosen", "rejected", "completion", "output", "answer", "response", "generation"}
STEP_SEP = "\n"  # TRL's PRMTrainer joins steps with step_separator="\n" by default


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
    if _lf1(row):  # LLaMA-Factory v1: full conversations on both sides, the prompt implicit
        fields, used, h = parse({"chosen": row[LF_SIDES[0]], "rejected": row[LF_SIDES[1]],
                                 **({"tools": row["tools"]} if "tools" in row else {})})
        h["lf1"] = 1
        return fields, (used - {"chosen", "rejected"}) | set(LF_SIDES), h
    if _one_turn_sides(row):
        fields, used, h = parse({**{k: v for k, v in row.items() if k not in ("messages", "chosen", "rejected")},
                                 "prompt": row["messages"], "chosen": [row["chosen"]], "rejected": [row["rejected"]]})
        h["one"] = 1
        return fields, (used - {"prompt"}) | {"messages"}, h
    h: dict = {}
    used: set = set()
    if _stepwise(row):
        return _parse_steps(row, h)
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
        if kto_label(row.get("label")) is not None:
            fields.update(kind="kto", label=kto_label(row["label"]))
            used.add("label")
        h["split"] = len(p_turns)
        turns, hints = p_turns + c_turns, p_hints + c_hints
    elif "chosen" not in row and "rejected" not in row and p_turns:  # prompt-only
        fields = {"kind": "sft"}
        h["nocomp"] = 1
        turns, hints = p_turns, p_hints
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
    elif isinstance(row.get("system"), str):  # axolotl's prompt_pairs / ultra rows: a system field
        system = row["system"]
        used.add("system")
        h["sysf"] = 1
    fields.update(system=system, messages=rest)
    if compact(hints):
        h["turns"] = hints
    used |= parse_tools_images(row, fields, h)
    for k in ("pstr", "cstr", "chstr", "rjstr"):
        if not h.get(k):
            h.pop(k, None)
    return fields, used, h


def _parse_steps(row: dict, h: dict) -> tuple[dict, set, dict]:
    """TRL stepwise supervision {"prompt", "completions": [step...], "labels": [bool...]}: the
    steps are one answer, joined as TRL's PRMTrainer joins them; `labels` stays in meta."""
    steps = row["completions"]
    if not all(isinstance(x, str) for x in steps):
        raise RowError("'completions' must be a list of strings (the steps)")
    p_turns, p_hints, h["pstr"] = _side(row["prompt"], "prompt", "user")
    h["steps"] = [len(x) for x in steps]
    fields = {"kind": "sft", "messages": p_turns + [{"role": "assistant", "content": STEP_SEP.join(steps)}]}
    system, rest = system_lift(fields["messages"])
    if system is not None:
        h["sys"], p_hints = p_hints[0], p_hints[1:]
    fields.update(system=system, messages=rest)
    if compact(p_hints):
        h["turns"] = p_hints
    if not h["pstr"]:
        del h["pstr"]
    used = {"prompt", "completions"} | parse_tools_images(row, fields, h)
    return fields, used, h


def _split_steps(answer: str, lengths: list[int]) -> list[str]:
    """The steps again: at the recorded lengths while they still fit, else at each separator."""
    out, pos = [], 0
    for n in lengths:
        out.append(answer[pos:pos + n])
        pos += n + len(STEP_SEP)
    if pos - len(STEP_SEP) == len(answer) and all(answer[p - len(STEP_SEP):p] == STEP_SEP for p in _ends(lengths)):
        return out
    return answer.split(STEP_SEP)


def _ends(lengths: list[int]) -> list[int]:
    ends, pos = [], 0
    for n in lengths[:-1]:
        pos += n + len(STEP_SEP)
        ends.append(pos)
    return ends


def _as(turns: list[dict], hints: list | None, as_str: bool, role: str) -> Any:
    if as_str and len(turns) == 1 and turns[0]["role"] == role and set(turns[0]) <= {"role", "content"}:
        return turns[0]["content"]
    return build_turns(turns, hints)


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    turns = list(rec.get("messages") or [])
    hints = list(h.get("turns") or [None] * len(turns))
    out: dict = {}
    if rec.get("system") is not None and h.get("sysf"):
        out["system"] = rec["system"]
    elif rec.get("system") is not None:
        turns.insert(0, system_turn(rec["system"], h.get("sys")))
        hints.insert(0, h.get("sys") or {})
    kind = rec["kind"]
    if kind == "sft" and "steps" in h and turns and turns[-1]["role"] == "assistant":
        out["prompt"] = _as(turns[:-1], hints[:-1], h.get("pstr", False), "user")
        out["completions"] = _split_steps(turns[-1]["content"], h["steps"])
    elif kind == "sft" and h.get("nocomp") and not any(t["role"] == "assistant" for t in turns):
        out["prompt"] = _as(turns, hints, h.get("pstr", False), "user")
    elif kind in ("sft", "kto"):
        split = h.get("split", _last_user(rec.get("messages") or []))
        if rec.get("system") is not None and not h.get("sysf"):
            split += 1
        if not h.get("noprompt"):
            out["prompt"] = _as(turns[:split], hints[:split], h.get("pstr", False), "user")
        as_str = h.get("cstr", h.get("pstr", False) if h.get("nocomp") else False)  # a prompt-only row answered
        out["completion"] = _as(turns[split:], hints[split:], as_str, "assistant")
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
    if "one" in h and kind == "preference":
        one = {"messages": out.pop("prompt", [])}
        for side in ("chosen", "rejected"):
            one[side] = out[side][0] if isinstance(out[side], list) and len(out[side]) == 1 else out[side]
        out = {**one, **{k: v for k, v in out.items() if k not in one}}
    elif "lf1" in h and kind == "preference":
        out = {LF_SIDES[0]: out.pop("chosen"), LF_SIDES[1]: out.pop("rejected"), **out}
    elif "oai" in h and kind == "preference":
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
