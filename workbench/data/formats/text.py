"""Plain text rows for pre-training data: {"text": ...} (also `persona` or `content`).

Writing a conversation as text flattens it into a Human/Assistant transcript (which reads
back as an HH conversation), and says so.
"""

from __future__ import annotations

from workbench.data.formats.base import need_str
from workbench.data.formats.hh import transcript

NAME = "text"


# Other names a row's text goes by (PersonaHub's persona rows, web-crawl dumps).
ALIASES = ("text", "persona", "content")


def _key(row: dict) -> str | None:
    return next((k for k in ALIASES if isinstance(row.get(k), str)), None)


def detect(row: dict) -> float:
    key = _key(row)
    return 0.5 if key == "text" else 0.4 if key else 0.0


def parse(row: dict) -> tuple[dict, set, dict]:
    key = _key(row) or "text"
    fields = {"kind": "text", "text": need_str(row.get(key), f"'{key}'")}
    return fields, {key}, ({"key": key} if key != "text" else {})


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    if rec["kind"] == "text":
        return {h.get("key", "text"): rec.get("text") or ""}, []
    lost = {"conversation structure (flattened into a Human/Assistant transcript)"}
    if rec.get("system"):
        lost.add("system prompt")
    if rec["kind"] == "preference":
        lost.add("the rejected side")
    if rec["kind"] == "kto":
        lost.add("the KTO label")
    if rec.get("tools"):
        lost.add("tool schemas")
    if rec.get("images"):
        lost.add("images")
    text = transcript((rec.get("messages") or []) + (rec.get("chosen") or []), lost)
    return {"text": text}, sorted(lost)


def to_record(row: dict, **kw) -> dict:
    """One row of this format -> a canonical record (see workbench.data.formats.decode)."""
    from workbench.data.formats import decode

    return decode(NAME, row, **kw)


def from_record(rec: dict) -> tuple[dict, list[str]]:
    """A canonical record -> (a row of this format, what it could not hold)."""
    from workbench.data.formats import encode

    return encode(rec, NAME)
