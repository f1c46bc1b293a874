"""Alpaca: {"instruction", "input", "output", "system"?, "history"?: [[instruction, answer], ...]}.

The preference variant has `chosen` / `rejected` strings instead of `output`, or (LLaMA-Factory's
older ranking datasets) `output` as a [chosen, rejected] pair of strings; a boolean
`kto_tag` / `label` marks a KTO row. Column aliases: question / prompt / query ->
instruction, answer / response / completion -> output, context -> input (Dolly), and the
fields of axolotl's instruction styles (INSTRUCTION / RESPONSE, message_1 / message_2,
prompt / generation, article / summary, system_prompt -> system; argilla's
chosen_response / rejected_response; icr's lone `input` as the instruction). The instruction and the input
become one user turn as LLaMA-Factory's alpaca converter joins them: the non-empty ones, one newline
apart; a <think> block in an answer stays in its text (reasoning held apart, from another
format, is written back as a leading <think> block).
"""

from __future__ import annotations

from workbench.data.formats.base import RowError, join_think, need_str, take_kto_label
from workbench.data.formats.messages import build_tools_images, parse_tools_images

NAME = "alpaca"

ALIASES = {
    # axolotl's instruction styles: oasst (INSTRUCTION/RESPONSE), camel_ai (message_1/message_2),
    # metharme (prompt/generation), summarizetldr (article/summary), open_orca (system_prompt)
    "instruction": ("instruction", "question", "prompt", "query", "INSTRUCTION", "message_1", "article"),
    "output": ("output", "answer", "response", "completion", "RESPONSE", "message_2", "generation", "summary"),
    "input": ("input", "context"),  # Dolly calls the input "context"
    "system": ("system", "system_prompt"),
}
LABEL_KEYS = ("kto_tag", "label")
SEP = "\n"  # LLaMA-Factory: "\n".join of the non-empty instruction and input


# Preference answers: chosen/rejected, or axolotl's argilla style chosen_response/rejected_response.
SIDES = (("chosen", "rejected"), ("chosen_response", "rejected_response"))


def _find(row: dict, target: str) -> str | None:
    return next((k for k in ALIASES[target] if row.get(k) is not None), None)


def _sides(row: dict) -> tuple[str, str] | None:
    return next((s for s in SIDES if s[0] in row and s[1] in row), None)


def _instruction_key(row: dict) -> str | None:
    """The instruction's field; axolotl's icr style has only an `input` beside its answers."""
    key = _find(row, "instruction")
    if key is None and isinstance(row.get("input"), str) and (_find(row, "output") or _sides(row)):
        return "input"
    return key


def detect(row: dict) -> float:
    ins = _instruction_key(row)
    if ins is None or not isinstance(row[ins], str):
        return 0.0
    if _find(row, "output") or _sides(row):
        return 0.8 if ins == "instruction" else 0.7
    return 0.3


def _answer(text: str) -> dict:
    return {"role": "assistant", "content": text}  # a <think> block stays in the text, as the trainer reads it


def parse(row: dict) -> tuple[dict, set, dict]:
    h: dict = {}
    ins_key = _instruction_key(row)
    if ins_key is None:
        raise RowError("missing field 'instruction'")
    instruction = need_str(row[ins_key], f"'{ins_key}'")
    used = {ins_key}
    names = {}
    if ins_key != "instruction":
        names["instruction"] = ins_key
    inp_key = next((k for k in ALIASES["input"] if k in row and k != ins_key), None)
    inp = need_str(row[inp_key], f"'{inp_key}'", optional=True) if inp_key else None
    if inp_key:
        used.add(inp_key)
        if inp_key != "input":
            names["input"] = inp_key
    else:
        h["noinput"] = 1
    user = SEP.join(p for p in (instruction, inp) if p)
    if inp:
        h["split"] = len(instruction)  # 0: the user turn is the input alone
    messages: list[dict] = []
    if row.get("history") is not None:
        hist = row["history"]
        if not isinstance(hist, list) or not all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in hist
        ):
            raise RowError("'history' must be a list of [instruction, answer] pairs of strings")
        for i, (q, a) in enumerate(hist):
            messages += [{"role": "user", "content": q}, _answer(a)]
        used.add("history")
        h["hist"] = 1
    messages.append({"role": "user", "content": user})
    sys_key = next((k for k in ALIASES["system"] if k in row), None)
    fields: dict = {"kind": "sft", "messages": messages}
    if sys_key:
        fields["system"] = need_str(row[sys_key], f"'{sys_key}'", optional=True)
        used.add(sys_key)
        if sys_key != "system":
            names["system"] = sys_key
    out_key = _find(row, "output")
    pair = row[out_key] if out_key else None
    if isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair):
        fields["kind"] = "preference"
        fields["chosen"] = [_answer(pair[0])]
        fields["rejected"] = [_answer(pair[1])]
        used.add(out_key)
        h["pair"] = out_key
    elif _sides(row) and out_key is None:
        ck, rk = _sides(row)
        fields["kind"] = "preference"
        fields["chosen"] = [_answer(need_str(row[ck], f"'{ck}'"))]
        fields["rejected"] = [_answer(need_str(row[rk], f"'{rk}'"))]
        used |= {ck, rk}
        if ck != "chosen":
            h["sides"] = 1
    elif out_key is None:
        raise RowError("missing field 'output' (or 'chosen' and 'rejected')")
    else:
        if out_key != "output":
            names["output"] = out_key
        messages.append(_answer(need_str(row[out_key], f"'{out_key}'")))
        used.add(out_key)
        take_kto_label(row, fields, h, used, LABEL_KEYS)
    if names:
        h["names"] = names
    used |= parse_tools_images(row, fields, h)
    return fields, used, h


def _text(turn: dict) -> str:
    if turn.get("reasoning") is not None:
        return join_think(turn["content"], turn["reasoning"])
    return turn["content"]


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    lost: set = set()
    turns = []
    for t in rec.get("messages") or []:  # alpaca has no tool use: keep the conversation around it
        if t["role"] == "tool":
            lost.add("tool turns")
        elif t.get("tool_calls") and not t["content"]:
            lost.add("tool calls")
        else:
            turns.append(t)
    kind = rec["kind"]
    answer = None
    if kind in ("sft", "kto") and turns and turns[-1]["role"] == "assistant":
        answer = turns.pop()
    elif kind in ("sft", "kto"):
        lost.add("a missing final answer")
    # what remains must be (user, assistant)* user
    pairs, last_user = [], None
    i = 0
    while i < len(turns):
        t = turns[i]
        if t["role"] == "user" and i + 1 < len(turns) and turns[i + 1]["role"] == "assistant":
            pairs.append((t, turns[i + 1]))
            i += 2
        elif t["role"] == "user" and i == len(turns) - 1:
            last_user = t
            i += 1
        else:
            lost.add("system turns inside the conversation" if t["role"] == "system" else
                     "tool turns" if t["role"] == "tool" else "turns that are not user/assistant pairs")
            i += 1
    for t in turns + ([answer] if answer else []) + list(rec.get("chosen") or []) + list(rec.get("rejected") or []):
        if t.get("tool_calls"):
            lost.add("tool calls")
        if t.get("name"):
            lost.add("turn names")
        if "train" in t:
            lost.add("train weights")
    names = h.get("names") or {}
    user = last_user["content"] if last_user else ""
    split = h.get("split")
    if split == 0:
        instruction, inp = "", user
    elif split is not None and user[split:split + len(SEP)] == SEP:
        instruction, inp = user[:split], user[split + len(SEP):]
    else:
        instruction, inp = user, ""
    out: dict = {names.get("instruction", "instruction"): instruction}
    if inp or not h.get("noinput"):
        out[names.get("input", "input")] = inp
    if kind == "preference":
        ch, rj = rec.get("chosen") or [], rec.get("rejected") or []
        if len(ch) != 1 or len(rj) != 1:
            lost.add("multi-turn preference continuations")
        sides = [_text(ch[0]) if ch else "", _text(rj[0]) if rj else ""]
        if h.get("pair"):
            out[h["pair"]] = sides
        else:
            ck, rk = SIDES[h.get("sides", 0)]
            out[ck], out[rk] = sides
    elif kind == "text":
        raise RowError("a text row has no alpaca form")
    else:
        out[names.get("output", "output")] = _text(answer) if answer else ""
        if kind == "kto":
            out[h.get("lkey", "kto_tag")] = rec.get("label")
    if rec.get("system") is not None:
        out[names.get("system", "system")] = rec["system"]
    if pairs or h.get("hist"):
        out["history"] = [[u["content"], _text(a)] for u, a in pairs]
    if rec.get("tools") is not None:
        lost.add("tool schemas")
    build_tools_images({**rec, "tools": None}, out, h)
    return out, sorted(lost)


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
