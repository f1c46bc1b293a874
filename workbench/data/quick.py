"""The quick path for the most common row shape: OpenAI messages of plain {"role", "content"} turns.

Such a row (no tools, images, KTO label, <think> block or extra turn keys) always writes back to
itself, so the format decoder's round-trip check cannot fail: the record is built here directly,
equal to what `formats.decode("openai", row, ...)` returns (tests/data/test_quick.py checks
that on every sample file). Any other row returns None and takes the general path.
"""

from __future__ import annotations

from typing import Any

from workbench.data.record import Record

_PLAIN = frozenset(("system", "user", "assistant", "tool"))
# Fields that make a row more than plain turns (the messages format's own fields).
_SPECIAL = frozenset(("label", "kto_tag", "tools", "images"))


def plain_turns(turns: Any) -> bool:
    """Every turn is exactly {"role": <a canonical role>, "content": <str>}, in that key order,
    and no assistant answer opens with a <think> block (whose reasoning would be split out)."""
    if type(turns) is not list or not turns:
        return False
    for t in turns:
        if type(t) is not dict or len(t) != 2:
            return False
        it = iter(t)
        if next(it) != "role" or next(it) != "content":
            return False
        role, content = t["role"], t["content"]
        if type(role) is not str or role not in _PLAIN or type(content) is not str:
            return False
        if role == "assistant" and "<think>" in content[:64]:
            return False
    return True


def openai_record(row: dict, *, id: str, source: str, row_index: int) -> Record | None:
    """The canonical record of a plain OpenAI-messages row, or None when the row is anything else."""
    turns = row.get("messages")
    if not plain_turns(turns) or not _SPECIAL.isdisjoint(row):
        return None
    origin: dict[str, Any] = {"format": "openai", "keys": list(row)}
    system = None
    if turns[0]["role"] == "system":
        system, turns = turns[0]["content"], turns[1:]
        origin["h"] = {"sys": {}}
    meta = {k: v for k, v in row.items() if k != "messages"}
    rid = row.get("id")
    if isinstance(rid, (str, int)) and not isinstance(rid, bool):
        del meta["id"]
        origin["id"] = rid
        id = str(rid)
    return {"id": id, "kind": "sft", "system": system, "messages": list(turns), "chosen": None, "rejected": None,
            "label": None, "text": None, "tools": None, "images": None, "meta": meta, "origin": origin,
            "source": source, "row": row_index}
