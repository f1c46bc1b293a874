"""Dataset formats: detection, and rows <-> canonical records.

Each format module (alpaca, sharegpt, messages (OpenAI/HF), trl, hh, glaive, text) has
`detect(row) -> score`, `parse(row) -> (fields, used keys, hints)` and
`build(record, hints) -> (row, lost)`, plus `to_record` / `from_record` wrappers. This
package adds what is common to all: the row id, every unused source field kept in `meta`,
the source's key order and --map renames in `origin`, and a check at read time that
writing the record back gives the very same row; when a spelling is beyond the module's
hints, the raw row is kept in `origin` and written back while the record is unchanged.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Iterable

from workbench.data.formats import alpaca, glaive, hh, messages, sharegpt, text, trl
from workbench.data.formats.base import RowError, json_kind, same, user_roles
from workbench.data.record import Record, make_record

FORMATS: dict[str, ModuleType] = {
    "openai": messages, "trl": trl, "sharegpt": sharegpt, "alpaca": alpaca, "hh": hh, "glaive": glaive,
    "text": text,
}
ALIASES = {"messages": "openai", "hf": "openai", "dpo": "trl"}
TARGETS = ("alpaca", "sharegpt", "openai", "trl", "hh", "text", "parquet")
CANONICAL = ("kind", "system", "messages", "chosen", "rejected", "label", "text", "tools", "images", "meta")


def format_name(name: str) -> str:
    key = ALIASES.get(name, name)
    if key not in FORMATS:
        raise ValueError(f"unknown format {name!r}; expected one of {', '.join(FORMATS)}")
    return key


def detect(rows: Iterable[dict]) -> tuple[str | None, float]:
    """The format whose fields best fit these rows (summed scores), or (None, 0)."""
    totals = dict.fromkeys(FORMATS, 0.0)
    for row in rows:
        for name, mod in FORMATS.items():
            totals[name] += mod.detect(row)
    best = max(totals, key=totals.__getitem__)  # ties: the first listed wins
    return (best, totals[best]) if totals[best] > 0 else (None, 0.0)


def decode(fmt: str, row: dict, *, id: str | None = None, source: str = "", row_index: int = 0,
           renamed: dict[str, str] | None = None, check: bool = True, roles: dict[str, str] | None = None) -> Record:
    """One source row -> a canonical record. `renamed` maps canonical names back to the
    source's (from --map), applied to `row` already; `roles` reads more role spellings
    (--roles Human=user: a row using one is written with the standard spelling, as an
    edit would be). Raises RowError."""
    if not isinstance(row, dict):
        raise RowError(f"a row must be a JSON object, not {json_kind(row)}")
    mod = FORMATS[fmt]
    with user_roles(roles) as spelled:
        fields, used, hints = mod.parse(row)
    if spelled["used"]:
        check = False  # the source's spelling of these roles is not to be restored
    src_keys = [renamed.get(k, k) for k in row] if renamed else list(row)
    origin: dict[str, Any] = {"format": fmt, "keys": src_keys}
    if hints:
        origin["h"] = hints
    if renamed:
        origin["renamed"] = renamed
    rid = row.get("id")
    if isinstance(rid, (str, int)) and not isinstance(rid, bool):
        used = used | {"id"}
        origin["id"] = rid  # the source's own id, written back as it was (a number stays one)
        id = str(rid)
    meta = {k: v for k, v in row.items() if k not in used}
    rec = make_record(id=id if id is not None else f"row:{row_index}", meta=meta, origin=origin,
                      source=source, row=row_index, **fields)
    if check:
        src = _rename(row, renamed) if renamed else row
        try:
            back, _ = encode(rec, fmt)
        except RowError:  # read fine but has no written form of its own: keep it as it came
            back = None
        if back is None or not same(back, src):
            rec["origin"]["raw"] = src
    return rec


def encode(rec: Record, to: str) -> tuple[dict, list[str]]:
    """A canonical record -> a row of format `to` (a TARGETS name or a format), and what
    that format could not hold."""
    origin = rec.get("origin") or {}
    fmt = format_name(to)
    if fmt == "openai" and (rec["kind"] == "preference" or origin.get("format") == "trl"):
        fmt = "trl"
    same_fmt = origin.get("format") == fmt
    if same_fmt and "raw" in origin and _unchanged(rec, fmt, origin):
        return origin["raw"], []
    hints = (origin.get("h") or {}) if same_fmt else {}
    mod = FORMATS["text"] if rec["kind"] == "text" else FORMATS[fmt]
    try:
        out, lost = mod.build(rec, hints)
    except RowError as e:
        raise RowError(f"row {rec['id']}: {e}") from None
    lost = list(lost)
    keys = origin.get("keys") or []
    if "id" in origin:
        out = {"id": origin["id"], **out}
    for k, v in (rec.get("meta") or {}).items():
        if k in out:
            lost.append(f"source field {k!r} (the format uses that name)")
        else:
            out[k] = v
    if same_fmt:
        if origin.get("renamed"):
            out = _rename(out, origin["renamed"])
        out = _reorder(out, keys)
    return out, lost


def _rename(row: dict, renamed: dict[str, str]) -> dict:
    return {renamed.get(k, k): v for k, v in row.items()}


def _reorder(out: dict, keys: list[str]) -> dict:
    if list(out) == keys:  # the usual case: already in the source's order
        return out
    first = {k: out[k] for k in keys if k in out}
    first.update((k, v) for k, v in out.items() if k not in first)
    return first


def _unchanged(rec: Record, fmt: str, origin: dict) -> bool:
    raw = origin["raw"]
    renamed = origin.get("renamed") or {}
    inverse = {v: k for k, v in renamed.items()}
    try:
        fresh = decode(fmt, _rename(raw, inverse) if renamed else raw, id=rec["id"], check=False)
    except RowError:
        return False
    return all(fresh[f] == rec.get(f) for f in CANONICAL)


def to_record(fmt: str, row: dict, **kw: Any) -> Record:
    return decode(fmt, row, **kw)
