"""Helpers shared by the format modules: row errors, turn spelling, <think> splitting.

A format module turns one source row (a dict) into a canonical record and back. It keeps
how the source spelled things (role names, key order, reasoning style...) as small *hints*
in the record's `origin`, so that writing back to the same format restores the row.
"""

from __future__ import annotations

import difflib
import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

import orjson


class RowError(Exception):
    """What is wrong with one row; the reader adds the file and line."""


def same(a: Any, b: Any) -> bool:
    """Deep equality that also compares dict key order and value types (1 != 1.0 != True)."""
    if a != b:  # C-speed equality first; then order and types
        return False
    try:  # equal values spell their keys in the same order and their types alike
        return orjson.dumps(a) == orjson.dumps(b)
    except TypeError:  # beyond orjson (integers over 64 bits, keys that are not strings)
        return _same_shape(a, b)


def _same_shape(a: Any, b: Any) -> bool:
    """Given a == b: the same key order and value types throughout (leaves checked inline)."""
    if type(a) is not type(b):
        return False
    if type(a) is dict:
        if list(a) != list(b):
            return False
        pairs = ((v, b[k]) for k, v in a.items())
    elif type(a) is list:
        pairs = zip(a, b)
    else:
        return True
    for v, w in pairs:
        tv = type(v)
        if tv is not type(w) or ((tv is dict or tv is list) and not _same_shape(v, w)):
            return False
    return True


def reorder(out: dict, keys: list[str] | None) -> dict:
    """`out` with the keys listed in `keys` first, in that order; the rest keep their order."""
    if not keys:
        return out
    first = {k: out[k] for k in keys if k in out}
    first.update((k, v) for k, v in out.items() if k not in first)
    return first


# What the user's file holds, in JSON's words ("a number", not Python's "a int").
_JSON_NAMES = {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
               dict: "an object"}


def json_kind(value: Any) -> str:
    return _JSON_NAMES.get(type(value), f"a {type(value).__name__}")


def need_str(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        got = "missing" if value is None else f"{json_kind(value)}, not a string"
        raise RowError(f"{what} is {got}")
    return value


def need_list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        got = "missing" if value is None else f"{json_kind(value)}, not a list"
        raise RowError(f"{what} is {got}")
    return value


# -- reasoning inside the text: "<think>...</think>answer" ------------------------------

_THINK = re.compile(r"(\s*)<think>(\s*)(.*?)(\s*)</think>(\s*)", re.S)


def split_think(text: str) -> tuple[str, str | None, list[str] | None]:
    """(answer, reasoning, style) when `text` starts with a <think> block, else (text, None, None).

    `style` holds the whitespace around the block so that `join_think` rebuilds it exactly.
    """
    if "<think>" not in text[:64]:
        return text, None, None
    m = _THINK.match(text)
    if not m:
        return text, None, None
    pre, lead, body, trail, sep = m.groups()
    return text[m.end():], body, [pre, lead, trail, sep]


DEFAULT_THINK = ["", "\n", "\n", "\n\n"]


def join_think(answer: str, reasoning: str, style: list[str] | None = None) -> str:
    pre, lead, trail, sep = style or DEFAULT_THINK
    return f"{pre}<think>{lead}{reasoning}{trail}</think>{sep}{answer}"


# -- train weights ------------------------------------------------------------------------

WEIGHT_KEYS = ("loss_weight", "train", "weight")


def read_weight(raw: Any, what: str) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        return 1.0 if raw else 0.0
    if isinstance(raw, (int, float)):
        return float(raw)
    raise RowError(f"{what} must be a number or a boolean, not {raw!r}")


def take_weight(t: dict, turn: dict, hint: dict, where: str) -> None:
    """Read a source turn's train weight (the first of WEIGHT_KEYS present) into `turn`,
    remembering the key and the value as written so that the writer restores them."""
    for k in WEIGHT_KEYS:
        if k in t:
            w = read_weight(t[k], f"{where}: {k}")
            if w is not None:
                turn["train"] = w
            hint["w"] = [k, t[k]]
            return


def write_weight(train: float | None, hint: list | None) -> Any:
    """The weight as the source wrote it when unchanged (True, 1, 1.0, null), else a number."""
    if hint is not None and read_weight(hint[1], "") == train:
        return hint[1]
    if train is None:
        return None
    return int(train) if float(train).is_integer() else train


# -- KTO labels -----------------------------------------------------------------------------


def kto_label(value: Any) -> bool | None:
    """A KTO desirability label: true/false, or 1/0 as pandas and Parquet exports spell a
    boolean column (TRL's KTOTrainer reads either as a bool); None for anything else."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    return None


def take_kto_label(row: dict, fields: dict, h: dict, used: set, keys: tuple[str, ...]) -> None:
    """A label (see kto_label) under one of `keys` makes the row KTO; a key other than the
    format's usual one (`keys[0]`) is remembered in the hint so the writer spells it the same
    way (a 0/1 source row is written back as it was, from the raw row the reader keeps)."""
    for k in keys:
        label = kto_label(row.get(k))
        if label is not None:
            fields["kind"], fields["label"] = "kto", label
            used.add(k)
            if k != keys[0]:
                h["lkey"] = k
            return


# -- tool calls -----------------------------------------------------------------------------


def dump_args(args: Any) -> str:
    """Canonical tool-call arguments are a JSON string."""
    return args if isinstance(args, str) else json.dumps(args, ensure_ascii=False)


def load_args(args: str) -> Any:
    try:
        return json.loads(args)
    except (TypeError, ValueError):
        return args


def system_lift(turns: list[dict]) -> tuple[str | None, list[dict]]:
    """A leading system turn becomes the record's system prompt."""
    if turns and turns[0]["role"] == "system" and not turns[0].get("tool_calls"):
        return turns[0]["content"], turns[1:]
    return None, turns


def system_turn(text: str, hint: dict | None) -> dict:
    """The system prompt as a leading turn again, with the train weight its source turn had
    (a system prompt is never trained, but LLaMA-Factory's v1 rows spell `loss_weight: 0.0`)."""
    turn = {"role": "system", "content": text}
    if hint and "w" in hint:
        w = read_weight(hint["w"][1], "")
        if w is not None:
            turn["train"] = w
    return turn


# -- role spellings ----------------------------------------------------------------------------

# The user's role map (--roles Human=user) for the rows being decoded, and whether a row used it.
_USER_ROLES: ContextVar[dict | None] = ContextVar("user_roles", default=None)
ROLE_TARGETS = ("system", "user", "assistant", "tool")


@contextmanager
def user_roles(roles: dict[str, str] | None) -> Iterator[dict]:
    """Decode under the user's role map; yields {"used": bool} for the row decoded inside."""
    state = {"map": roles or {}, "used": False}
    token = _USER_ROLES.set(state)
    try:
        yield state
    finally:
        _USER_ROLES.reset(token)


def user_roles_active() -> bool:
    state = _USER_ROLES.get()
    return bool(state and state["map"])


def resolve_role(raw: Any, known: dict[str, str], where: str) -> tuple[str, bool]:
    """(canonical role, spelled by the user's map) of a turn's role, or a RowError naming the
    spelling and the --roles entry that reads it (a close known spelling, such as a typo's)."""
    state = _USER_ROLES.get()
    if state and isinstance(raw, str) and raw in state["map"]:
        state["used"] = True
        return state["map"][raw], True
    role = known.get(raw) if isinstance(raw, str) else None
    if role is not None:
        return role, False
    hint = ""
    if isinstance(raw, str):
        close = difflib.get_close_matches(raw.lower(), known, n=1, cutoff=0.6)
        target = known[close[0]] if close else "user|assistant|system|tool"
        hint = f"; read it as a role with --roles {raw}={target}" if "=" not in raw and "," not in raw else ""
    raise RowError(f"unknown role {raw!r} in {where} (expected one of {', '.join(known)}{hint})")


def is_role_list(value: Any, key: str = "role") -> bool:
    return isinstance(value, list) and bool(value) and isinstance(value[0], dict) and key in value[0]
