"""Writing canonical records to a dataset file, atomically (temp file, then rename).

Targets: alpaca, sharegpt, openai (messages; TRL prompt/chosen/rejected for preference
rows), trl, hh, text, parquet (rows shaped like the records' common source format, else OpenAI
style). The container follows the output's suffix: `.jsonl` (JSON Lines), `.json` (an array),
either with `.gz`, or `.parquet`; `-` writes JSON Lines to standard output. The report names,
per row, what the target format could not hold.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import sys
from pathlib import Path
from typing import IO, Any, Callable, Iterable

from workbench.atomic import replacing
from workbench.data.formats import FORMATS, TARGETS, encode
from workbench.data.readers import JSON_COLUMNS_KEY
from workbench.data.record import Record


CONTAINERS = {".jsonl": "jsonl", ".json": "json", ".jsonl.gz": "jsonl", ".json.gz": "json", ".parquet": "parquet"}


def container(out: str | os.PathLike) -> str:
    """The file container an output path asks for: "jsonl", "json" or "parquet" ("-": JSON
    Lines on standard output). Raises ValueError for any other suffix."""
    if str(out) == "-":
        return "jsonl"
    name = Path(out).name.lower()
    for suffix in sorted(CONTAINERS, key=len, reverse=True):
        if name.endswith(suffix):
            return CONTAINERS[suffix]
    raise ValueError(f"{out}: the output's suffix names its container; use one of {', '.join(CONTAINERS)} (or - for standard output)")


def split_path(out: str, split: str) -> str:
    """`data.jsonl`, "validation" -> `data.validation.jsonl` (a .gz suffix stays last too)."""
    p = Path(out)
    suffixes = "".join(p.suffixes[-2:]) if p.name.endswith(".gz") else p.suffix
    stem = p.name[: len(p.name) - len(suffixes)] if suffixes else p.name
    return str(p.with_name(f"{stem}.{split}{suffixes}"))


def write_records(records: Iterable[Record], to: str, out: str | os.PathLike,
                  encoder: Callable[[Record], tuple[dict, list[str]]] | None = None) -> dict:
    """Write `records` in format `to` to `out`; returns {"rows": n, "lost": [{"row", "what"}]}.

    `encoder` (record -> (row, lost)) shapes rows instead of the format's own writer, for a
    trainer's layout. Raises ValueError for an unknown format or a suffix that disagrees with it;
    a RowError from the encoder leaves no output behind."""
    if to not in TARGETS:
        raise ValueError(f"unknown target format {to!r}; expected one of {', '.join(TARGETS)}")
    box = container(out)
    if to == "parquet" and box != "parquet":
        raise ValueError(f"{out}: --to parquet writes a .parquet file, not {Path(str(out)).name}")
    report: dict[str, Any] = {"rows": 0, "lost": []}

    fmt = to
    if to == "parquet":  # held in memory anyway: rows shaped like their common source format
        records = list(records)
        sources = {(r.get("origin") or {}).get("format") for r in records}
        fmt = sources.pop() if len(sources) == 1 and next(iter(sources), None) in FORMATS else "openai"
    shape = encoder or (lambda rec: encode(rec, fmt))

    current: list = [None]  # the id of the row being written

    def rows():
        for rec in records:
            row, lost = shape(rec)
            report["lost"] += [{"row": rec["id"], "what": w} for w in lost]
            report["rows"] += 1
            current[0] = rec["id"]
            yield row

    def dumps(row: dict) -> str:
        try:
            return _encode(row)
        except ValueError:  # NaN or an infinity (a Parquet float, a score): JSON has no spelling for it
            report["lost"].append({"row": current[0], "what": NON_FINITE})
            return _encode(_finite(row))

    if str(out) == "-":
        _write_lines(rows(), sys.stdout, dumps)
        sys.stdout.flush()
        return report
    out = Path(out)
    with replacing(out) as tmp:
        if box == "parquet":
            _write_parquet(rows(), tmp, report)
        else:
            opener = gzip.open if out.name.lower().endswith(".gz") else open
            with opener(tmp, "wt", encoding="utf-8") as f:
                (_write_array if box == "json" else _write_lines)(rows(), f, dumps)
    return report


# Strict JSON: Python's json would write NaN and Infinity, which JSON readers (and trainers) refuse.
_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False).encode
NON_FINITE = "NaN or infinite numbers (JSON has no spelling for them): written as null"


def _finite(value: Any) -> Any:
    """`value` with every NaN and infinity replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _write_lines(rows: Iterable[dict], f: IO[str], dumps: Callable[[dict], str]) -> None:
    for row in rows:
        f.write(dumps(row))
        f.write("\n")


def _write_array(rows: Iterable[dict], f: IO[str], dumps: Callable[[dict], str]) -> None:
    f.write("[")
    sep = "\n"
    for row in rows:
        f.write(sep)
        f.write(dumps(row))
        sep = ",\n"
    f.write("\n]\n")


def _write_parquet(rows: Iterable[dict], path: Path, report: dict) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = list(rows)
    names = list(dict.fromkeys(k for r in rows for k in r))  # every row's fields, not the first's
    cols, as_json = {}, []
    for k in names:
        vals = [r.get(k) for r in rows]
        try:
            cols[k] = pa.array(vals)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            # Values Arrow cannot type as one column (e.g. content that is a string in one turn
            # and a list of parts in another) are stored as JSON text; the reader decodes them.
            cols[k] = pa.array([None if v is None else json.dumps(v, ensure_ascii=False) for v in vals])
            as_json.append(k)
    table = pa.table(cols) if cols else pa.table({})
    if as_json:
        table = table.replace_schema_metadata({JSON_COLUMNS_KEY: json.dumps(as_json)})
    pq.write_table(table, str(path))
