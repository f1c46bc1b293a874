"""CLI: `workbench similar | stats` (embed and map are operations: workbench/cli/ops.py)."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args

    def embedding_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("--view", choices=("prompt", "answer", "all"), default="all",
                       help="which text of a row to embed (default: the whole conversation)")
        p.add_argument("--model", metavar="PATH",
                       help="a local sentence-transformers model directory (default: the bundled all-MiniLM-L6-v2)")

    p = sub.add_parser("similar", help="the rows nearest to one row by embedding (cosine)")
    add_dataset_args(p)
    embedding_args(p)
    p.add_argument("--row", required=True, metavar="ID", help="row id or row number (0-based, #N as the TUI shows it)")
    p.add_argument("-k", type=int, default=10, help="how many neighbours (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_similar)

    p = sub.add_parser("stats", help="distributions: kinds, turns, token lengths per role, scores, clusters")
    add_dataset_args(p)
    p.add_argument("--tokenizer", metavar="SPEC", help="tokenizer for token lengths (default: smollm2)")
    p.add_argument("--sample", type=int, default=20000, help="rows whose tokens are counted at most (default 20000)")
    p.add_argument("--no-tokens", action="store_true", help="skip token counting")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--html", metavar="OUT.html", help="also write a self-contained page of the histograms "
                   "(and of the topic map, when one is saved) to share")
    p.set_defaults(func=cmd_stats)


def _open(args):
    from workbench.cli.common import load_dataset_and_workspace

    return load_dataset_and_workspace(args)


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _embed(args, ds, ws):
    from workbench.explore.embed import embed_dataset

    def progress(done: int, total: int) -> None:
        if total:
            _say(f"embedding: {done}/{total} new texts")

    try:
        return embed_dataset(ds, ws, view=args.view, model=args.model, progress=progress)
    except ValueError as e:  # a model path that is not a model
        _say(f"workbench: {e}")
        raise SystemExit(1) from None


def cmd_similar(args) -> int:
    from workbench.explore.similar import nearest

    ds, ws = _open(args)
    from workbench.cli.common import row_position

    try:
        pos = row_position(ds, args.row)
    except ValueError as e:
        _say(f"workbench: {ds.name}: {e}")
        return 1
    with ws:
        vecs = _embed(args, ds, ws)
    hits = nearest(vecs, pos, args.k)
    previews = ds.column("preview")
    if args.json:
        print(json.dumps({"row": args.row, "neighbours": [
            {"id": ds.ids[i], "score": round(s, 4), "preview": previews[i]} for i, s in hits]}, ensure_ascii=False))
        return 0
    print(f"{args.row}: {previews[pos][:100]}")
    for i, s in hits:
        print(f"  {s:6.3f}  {ds.ids[i]}  {previews[i][:90]}")
    return 0


def cmd_stats(args) -> int:
    from workbench.explore.stats import dataset_stats

    from workbench.session import Session

    ds, ws = _open(args)
    with ws:
        try:
            st = dataset_stats(ds, ws, tokenizer=args.tokenizer, sample=args.sample, tokens=not args.no_tokens)
        except (ValueError, FileNotFoundError) as e:  # a tokenizer spec that does not load
            _say(f"workbench: {e}")
            return 1
        session = Session(ds, ws)  # the counts `status`, the TUI and export use
        st["decisions"] = session.counts()
        generated = session.generated_counts()
        if any(generated.values()):
            st["generated"] = generated
        if args.html:
            from workbench.explore.topicmap import load_map

            from workbench.explore.page import stats_page

            tm = load_map(ws, ds.ids)
            write_page(args.html, stats_page(st, f"{ds.name} · stats", tm, ds.column("preview") if tm else None))
    if args.json:
        print(json.dumps(st, ensure_ascii=False))
        return 0
    print(format_stats(st))
    return 0


def write_page(out: str, html: str) -> None:
    """Write an HTML page to `out` atomically and say so on stderr."""
    from workbench.atomic import write_text_atomic

    write_text_atomic(out, html)
    _say(f"wrote {out}")


def _bars(h: dict, width: int = 40, integer: bool = False) -> list[str]:
    if not h.get("counts"):
        return ["    (none)"]
    top = max(h["counts"]) or 1
    lines = []
    edges = h["bins"]
    for i, c in enumerate(h["counts"]):
        lo, hi = edges[i], edges[i + 1]
        span = f"{lo:g}" if integer and hi - lo == 1 else f"{lo:g}-{hi:g}"
        lines.append(f"    {span:>15} {'█' * round(c / top * width):<{width}} {c}")
    if h.get("over"):
        tail = edges[-2] if integer and edges[-1] - edges[-2] == 1 else edges[-1]
        lines.append(f"    {'> ' + format(tail, 'g'):>15} {'':<{width}} {h['over']}")
    return lines


def _summary(h: dict) -> str:
    if not h.get("n"):
        return "n=0"
    return f"n={h['n']} min={h['min']:g} median={h['median']:g} mean={h['mean']:g} p95={h['p95']:g} max={h['max']:g}"


def format_stats(st: dict) -> str:
    """The stats as text for a terminal."""
    out = [f"rows: {st['rows']}", "kinds: " + ", ".join(f"{k} {v}" for k, v in st["kinds"].items())]
    if "decisions" in st:
        out.append("decisions: " + ", ".join(f"{k} {v}" for k, v in st["decisions"].items()))
    if "generated" in st:
        out.append("generated rows under review: " + ", ".join(f"{k} {v}" for k, v in st["generated"].items()))
    out += [f"turns per row ({_summary(st['turns'])})", *_bars(st["turns"], integer=True)]
    if "tokens" in st:
        t = st["tokens"]
        out.append(f"tokens ({t['tokenizer']}, {t['sampled']} rows)")
        out += [f"  per row ({_summary(t['row'])})", *_bars(t["row"])]
        for role, h in t["roles"].items():
            out += [f"  {role} turns ({_summary(h)})", *_bars(h)]
    for name, h in st.get("scores", {}).items():
        if "values" in h:
            out.append(f"signal {name}: " + ", ".join(f"{k} {v}" for k, v in h["values"].items()))
        else:
            out += [f"signal {name} ({_summary(h)})", *_bars(h)]
    if st.get("clusters"):
        out.append(f"clusters ({len(st['clusters'])})")
        out += [f"  {c['id']:>4} {c['size']:>7}  {c['label']}" for c in st["clusters"]]
    return "\n".join(out)
