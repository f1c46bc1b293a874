"""Plain text rows for pre-training data: {"text": ...} (also `persona` or `content`), and
axolotl's template-free rows {"segments": [{"label": bool, "text"}]}, read as their text
with the segments' bounds and train labels kept so that the row is written back as it was.

Writing a conversation as text flattens it into a Human/Assistant transcript (which reads
back as an HH conversation), and says so.
"""

from __future__ import annotations

from workbench.data.formats.base import RowError, need_str
from workbench.data.formats.hh import transcript

NAME = "text"


# Other names a row's text goes by (PersonaHub's persona rows, web-crawl dumps).
ALIASES = ("text", "persona", "content")


def _key(row: dict) -> str | None:
    return next((k for k in ALIASES if isinstance(row.get(k), str)), None)


def _segments(row: dict) -> bool:
    seg = row.get("segments")
    return isinstance(seg, list) and bool(seg) and isinstance(seg[0], dict) and "text" in seg[0]


def detect(row: dict) -> float:
    if _segments(row):
        return 0.9
    key = _key(row)
    return 0.5 if key == "text" else 0.4 if key else 0.0


def parse(row: dict) -> tuple[dict, set, dict]:
    if "segments" in row and "text" not in row:
        return _parse_segments(row["segments"])
    key = _key(row) or "text"
    fields = {"kind": "text", "text": need_str(row.get(key), f"'{key}'")}
    return fields, {key}, ({"key": key} if key != "text" else {})


def _parse_segments(segs: object) -> tuple[dict, set, dict]:
    if not isinstance(segs, list):
        raise RowError("'segments' must be a list of {\"label\", \"text\"} objects")
    texts, spans = [], []
    for i, seg in enumerate(segs):
        if not isinstance(seg, dict) or set(seg) != {"label", "text"} or not isinstance(seg["label"], bool):
            raise RowError(f"segment {i + 1} must be {{\"label\": true/false, \"text\": ...}}")
        texts.append(need_str(seg["text"], f"segment {i + 1} 'text'"))
        spans.append([len(seg["text"]), seg["label"], list(seg)])
    return {"kind": "text", "text": "".join(texts)}, {"segments"}, {"seg": spans}


def _build_segments(text: str, spans: list) -> tuple[list[dict], list[str]]:
    if sum(n for n, _, _ in spans) != len(text):  # edited: the bounds no longer fit
        return [{"label": True, "text": text}], ["segment bounds and train labels (the text was changed)"]
    out, pos = [], 0
    for n, label, keys in spans:
        seg = {"label": label, "text": text[pos:pos + n]}
        out.append({k: seg[k] for k in keys})
        pos += n
    return out, []


def build(rec: dict, h: dict) -> tuple[dict, list[str]]:
    if rec["kind"] == "text" and "seg" in h:
        segs, lost = _build_segments(rec.get("text") or "", h["seg"])
        return {"segments": segs}, lost
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
