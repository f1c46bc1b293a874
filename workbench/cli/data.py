"""`workbench info` and `workbench convert`."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter

FIELD_SAMPLE = 1000  # rows read to list the source fields
SHOW_LOST_ROWS = 5


def register(sub: argparse._SubParsersAction) -> None:
    from workbench.cli.common import add_dataset_args
    from workbench.data.formats import TARGETS

    p = sub.add_parser("info", help="format, rows, kinds, fields, lengths and problems of a dataset")
    add_dataset_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=info, on_error="skip", lists_errors=True)

    p = sub.add_parser("convert", help="write a dataset in another format")
    add_dataset_args(p)
    p.add_argument("--to", required=True, choices=TARGETS)
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file (.jsonl, .json for an array, .gz to compress, .parquet; - for stdout)")
    p.set_defaults(func=convert)


# -- info ----------------------------------------------------------------------------------


def _stats(values: list[int]) -> dict:
    if not values:
        return {"min": 0, "mean": 0, "p50": 0, "p95": 0, "max": 0}
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
    return {"min": v[0], "mean": round(sum(v) / len(v), 1), "p50": pick(0.5), "p95": pick(0.95), "max": v[-1]}


def summarize(ds) -> dict:
    """What `workbench info` reports about an open Dataset."""
    formats = {os.path.relpath(k) if not os.path.isabs(k) else k: v for k, v in ds.formats.items()}
    distinct = sorted({f for f in formats.values() if f})
    fields: Counter = Counter()
    n_fields = min(len(ds), FIELD_SAMPLE)
    for rec in ds.records(0, n_fields):
        fields.update((rec.get("origin") or {}).get("keys") or ())
    sources = Counter(ds.column("source"))
    return {
        "format": distinct[0] if len(distinct) == 1 else ("mixed" if distinct else None),
        "formats": formats,
        "rows": len(ds),
        "kinds": dict(Counter(ds.column("kind")).most_common()),
        "fields": dict(fields.most_common()),
        "fields_sampled": n_fields,
        "rows_per_file": {os.path.relpath(s): n for s, n in sources.items()},
        "splits": _split_rows(ds, sources),
        "length_chars": _stats(ds.column("length")),
        "turns": _stats(ds.column("n_turns")),
        "errors": [{"file": e["file"], "line": e["line"], "message": e["message"]} for e in ds.errors],
    }


def _split_rows(ds, rows_per_source: Counter) -> dict[str, int]:
    """{split: rows} of a dataset whose sources are named splits (a DatasetDict...), else {}."""
    out: Counter = Counter()
    for src, name in ds.splits.items():
        out[name] += rows_per_source.get(src, 0)
    return dict(out)


def info(args: argparse.Namespace) -> int:
    from workbench.cli.common import load_dataset

    ds = load_dataset(args)
    s = summarize(ds)
    if args.json:
        print(json.dumps(s, ensure_ascii=False))
        return 0
    print(f"format   {s['format'] or 'unknown (no readable rows)'}")
    if len(s["formats"]) > 1:
        for f, fmt in s["formats"].items():
            print(f"         {fmt or '?':9} {f} ({s['rows_per_file'].get(os.path.relpath(f), 0)} rows)")
    print(f"rows     {s['rows']}")
    if s["splits"]:
        more = "   (one with --split NAME)" if len(s["splits"]) > 1 else ""
        print("splits   " + ", ".join(f"{k} {n}" for k, n in s["splits"].items()) + more)
    print("kinds    " + ", ".join(f"{k} {n}" for k, n in s["kinds"].items()))
    more = "" if s["fields_sampled"] == s["rows"] else f"   (in the first {s['fields_sampled']} rows)"
    print("fields   " + ", ".join(f"{k} {n}" for k, n in s["fields"].items()) + more)
    L, T = s["length_chars"], s["turns"]
    print(f"length   chars min {L['min']}  p50 {L['p50']}  mean {L['mean']}  p95 {L['p95']}  max {L['max']}")
    print(f"turns    min {T['min']}  p50 {T['p50']}  mean {T['mean']}  p95 {T['p95']}  max {T['max']}")
    print(f"errors   {len(s['errors'])}")
    for e in s["errors"]:
        where = f"{e['file']}:{e['line']}" if e["line"] is not None else e["file"]
        print(f"  {where}: {e['message']}")
    return 0


# -- convert ---------------------------------------------------------------------------------


def convert(args: argparse.Namespace) -> int:
    from workbench.cli.common import input_paths, read_options, say_skipped
    from workbench.data.errors import DataError
    from workbench.data.readers import expand_paths, iter_records
    from workbench.data.splits import select, splits_of
    from workbench.data.writers import write_records

    try:
        files = expand_paths(input_paths(args))
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    out = os.path.abspath(args.output)
    if args.output != "-" and any(os.path.abspath(f) == out for f in files):
        print(f"workbench: {args.output} is an input: the source is never overwritten", file=sys.stderr)
        return 1
    errors: list[dict] = []
    options = read_options(args)
    try:
        files = select(files, options.pop("split"))
    except DataError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    named = splits_of(files)
    if len(set(named.values())) > 1:
        print(f"workbench: {', '.join(args.paths)} holds the splits {', '.join(dict.fromkeys(named.values()))}: "
              "convert one at a time with --split NAME (export writes one file per split)", file=sys.stderr)
        return 1

    def records():
        for f in files:
            yield from iter_records(f, errors=errors, **options)

    try:
        report = write_records(records(), args.to, args.output)
    except DataError as e:
        print(f"workbench: {e}", file=sys.stderr)
        print("workbench: nothing written (use --on-error skip to leave bad rows out)", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    say_skipped(errors)
    _say_lost(report["lost"], args.to)
    print(f"wrote {report['rows']} rows to {args.output} ({args.to})"
          + (f"; skipped {len(errors)} bad rows" if errors else ""), file=sys.stderr)
    return 0


def _say_lost(lost: list[dict], to: str) -> None:
    by_what: dict[str, list] = {}
    for item in lost:
        by_what.setdefault(item["what"], []).append(item["row"])
    for what, rows in by_what.items():
        rows = [r for r in rows if r is not None]
        shown = ", ".join(map(str, rows[:SHOW_LOST_ROWS])) + (" …" if len(rows) > SHOW_LOST_ROWS else "")
        where = f" in {len(rows)} rows ({shown})" if rows else ""
        print(f"{to} cannot hold: {what}{where}", file=sys.stderr)
