"""Reading a judge's verdict out of its reply: the rating or the preferred side the prompt asked
for, never a word in the rationale.

Where the verdict is looked for, in order:
1. JSON: the reply itself, a fenced block, or the last `{...}` object in it, with a `rating`
   (or `score`) key, or `winner` / `verdict` for a comparison (structured output gives this);
2. otherwise the LAST well-formed verdict in the text: a `Rating: N` line (also `**Rating**: N`,
   `rating = [N]`), `[[N]]`, or `N/MAX`; for comparisons `[[A]]` / `[[B]]` / `[[C]]` (a tie) or a
   `Verdict: A` line, as in MT-Bench's pairwise prompt (Zheng et al., 2023).
"A lower rating is fair here. Rating: 4" reads 4; "Rating: [[5]]" reads 5.

A missing, non-numeric or out-of-range verdict raises VerdictError (a GenerationError) saying
which; callers record it on the row, never as a null.
"""

from __future__ import annotations

import json
import re

from workbench.ops.generation.common import GenerationError


class VerdictError(GenerationError):
    """A judge's reply without a usable verdict."""


_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_LABEL = re.compile(r"\brating\s*\**\s*[:=]\s*\**\s*\[*\s*([^\s\]*/,;]+)", re.I)
_BRACKETS = re.compile(r"\[\[\s*([^\]\s]+)\s*\]\]")
_TRAILING_LABEL = re.compile(r"\**\s*rating\s*\**\s*[:=]?\s*\**\s*$", re.I)
_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.S | re.I)
_RATIONALE = re.compile(r"(?:rationale|explanation|reason)\s*\**\s*[:=\-]\s*\**\s*(.+)", re.I | re.S)
_SIDE_LABEL = re.compile(r"\b(?:verdict|winner|better(?: response)?)\s*\**\s*[:=]\s*\**\s*\[*\s*\(?([A-Za-z]+)\b", re.I)
SIDES = {"a": "A", "b": "B", "c": "tie", "tie": "tie"}


def json_object(text: str) -> dict | None:
    """The verdict object of a reply: the whole reply, a fenced block, or the last `{...}` that
    parses as a JSON object; None when there is none."""
    text = (text or "").strip()
    candidates = [text] + _FENCE.findall(text)
    decoder = json.JSONDecoder()
    found = None
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                obj, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            if isinstance(obj, dict):
                found = obj
    for c in candidates:
        try:
            obj = json.loads(c.strip())
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return found


def _number(raw, low: float, high: float) -> float:
    raw = str(raw).strip().strip(".")
    if not _NUMBER.match(raw):
        raise VerdictError(f"rating is not a number: {raw[:40]!r}")
    value = float(raw)
    if not low <= value <= high:
        raise VerdictError(f"rating {raw} is outside {low:g}-{high:g}")
    return value


def parse_rating(text: str, low: float = 1, high: float = 5) -> tuple[float, str]:
    """(rating, rationale) of a judge's reply on a `low`-`high` scale; VerdictError when the
    reply is empty, holds no rating, or its rating is not a number or out of range."""
    text = text or ""
    if not text.strip():
        raise VerdictError("the judge's reply is empty")
    obj = json_object(text)
    if obj is not None:
        key = next((k for k in ("rating", "score") if k in obj), None)
        if key is not None:
            why = obj.get("rationale") or obj.get("explanation") or ""
            return _number(obj[key], low, high), str(why).strip()
    hits = [(m.start(), m.group(1)) for m in _LABEL.finditer(text)]
    hits += [(m.start(), m.group(1)) for m in _BRACKETS.finditer(text)]
    scale = re.compile(rf"(?<![\w.])([+-]?\d+(?:\.\d+)?)\s*/\s*{int(high) if high == int(high) else high}(?![\d.])")
    hits += [(m.start(), m.group(1)) for m in scale.finditer(text)]
    if not hits:
        raise VerdictError(f"no rating in the judge's reply (expected 'Rating: N', [[N]], N/{high:g} or JSON): "
                           f"{text[:100]!r}")
    pos, raw = max(hits)
    value = _number(raw, low, high)
    before = _TRAILING_LABEL.sub("", text[:pos])  # "Rating: [[5]]": the label is not rationale
    r = _RATIONALE.search(text[pos:]) or _RATIONALE.search(before)  # after the verdict, else before it
    return value, (r.group(1) if r else before).strip()


def parse_preference(text: str) -> tuple[str, str]:
    """("A" | "B" | "tie", rationale) of a comparison reply; VerdictError otherwise."""
    text = text or ""
    if not text.strip():
        raise VerdictError("the judge's reply is empty")
    obj = json_object(text)
    if obj is not None:
        key = next((k for k in ("winner", "verdict", "preferred") if k in obj), None)
        if key is not None:
            side = SIDES.get(str(obj[key]).strip().strip("[]").lower())
            if side is None:
                raise VerdictError(f"verdict is not A, B or tie: {str(obj[key])[:40]!r}")
            return side, str(obj.get("rationale") or obj.get("explanation") or "").strip()
    hits = [(m.start(), m.group(1)) for m in _BRACKETS.finditer(text)]
    hits += [(m.start(), m.group(1)) for m in _SIDE_LABEL.finditer(text)]
    if not hits:
        raise VerdictError(f"no verdict in the judge's reply (expected [[A]], [[B]] or [[C]]): {text[:100]!r}")
    pos, raw = max(hits)
    side = SIDES.get(raw.lower())
    if side is None:
        raise VerdictError(f"verdict is not A, B or tie: {raw[:40]!r}")
    return side, text[:pos].strip()
