"""CLI: `workbench filter | dedup | decontam` — each flags rows in the dataset's workspace
(signals and proposed rejections; nothing is removed before export), prints a summary and,
with --report, writes the details as JSON."""

from __future__ import annotations

import argparse
import sys

VIEWS = ("conversation", "prompt", "answer", "all")


def register(sub) -> None:
    from workbench.cli_common import add_dataset_args

    p = sub.add_parser("filter", help="flag rows by rules: length, empty turns, refusals, repetition, roles, cut-off answers")
    add_dataset_args(p)
    p.add_argument("--rules", metavar="FILE", help="JSON rules file (see workbench.ops.filters for the settings)")
    _common(p)
    p.set_defaults(func=cmd_filter)

    p = sub.add_parser("dedup", help="cluster duplicate rows (exact, MinHash near-duplicates, or embeddings)")
    add_dataset_args(p)
    p.add_argument("--method", choices=("exact", "minhash", "embedding"), default="minhash",
                   help="exact: equal normalised text; minhash: near-duplicates (default); embedding: same meaning")
    p.add_argument("--view", choices=VIEWS, default="conversation",
                   help="text compared: the conversation without the system prompt (default: what varies "
                        "between rows), the prompt, the answer, or all of the text (system prompt included)")
    p.add_argument("--keep", choices=("first", "longest", "score"), default="first",
                   help="which member of a cluster is kept (default: the first row)")
    p.add_argument("--score-signal", metavar="NAME", help="signal whose highest value is kept, with --keep score")
    g = p.add_argument_group("exact")
    g.add_argument("--keep-case", action="store_true", help="case matters (default: ignored)")
    g.add_argument("--keep-whitespace", action="store_true", help="whitespace matters (default: folded)")
    g.add_argument("--ignore-punctuation", action="store_true", help="drop punctuation before comparing")
    g = p.add_argument_group("minhash")
    g.add_argument("--threshold", type=float, help="minhash: Jaccard (default 0.5); embedding: cosine (default 0.95)")
    g.add_argument("--num-perm", type=int, default=128, help="permutations (default 128)")
    g.add_argument("--bands", type=int, help="LSH bands (with --rows; default: chosen from the threshold)")
    g.add_argument("--rows", type=int, help="rows per LSH band")
    g.add_argument("--ngram", type=int, default=2, help="shingle size (default 2)")
    g.add_argument("--unit", choices=("word", "char"), default="word", help="shingle unit (default word)")
    g.add_argument("--verify", choices=("none", "jaccard", "rapidfuzz"), default="none",
                   help="re-check candidate pairs by true Jaccard or rapidfuzz ratio (default: MinHash estimate)")
    g.add_argument("--verify-threshold", type=float, metavar="T",
                   help="similarity the verification must reach (default: --threshold)")
    g = p.add_argument_group("embedding")
    g.add_argument("--model", help="local sentence-transformers model directory (default: bundled MiniLM)")
    _common(p)
    p.set_defaults(func=cmd_dedup)

    p = sub.add_parser("decontam", help="find rows sharing word n-grams with benchmark test sets")
    add_dataset_args(p)
    p.add_argument("--against", action="append", required=True, metavar="FILE[:field,...]",
                   help="benchmark file (jsonl/json/parquet/csv) and the fields to read (default: every "
                        "string field); repeatable")
    p.add_argument("--ngram", type=int, default=13, help="n-gram size in words (default 13)")
    p.add_argument("--view", choices=VIEWS, default="all", help="text of each row checked (default: all)")
    _common(p)
    p.set_defaults(func=cmd_decontam)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--report", metavar="R.json", help="write the full report as JSON")
    p.add_argument("--dry-run", action="store_true", help="do not write to the workspace")


def _open(args):
    from workbench.cli_common import load_dataset, open_workspace

    ds = load_dataset(args)
    return ds, None if args.dry_run else open_workspace(args, ds)


def _finish(result, ws, args, op=None, params=None) -> int:
    from workbench.ops.base import apply_result

    if ws is not None:
        with ws:
            run_id = apply_result(ws, result, fingerprint=op.fingerprint(params) if op else None)
        where = f"; run {run_id} in workspace {ws.path}"
    else:
        where = " (dry run: workspace untouched)"
    if args.report:
        from workbench.atomic import write_json_atomic

        write_json_atomic(args.report, result.report)
        where += f"; report {args.report}"
    print(result.summary + where)
    return 0




def _fail(msg: str) -> int:
    print(f"workbench: {msg}", file=sys.stderr)
    return 2


def cmd_filter(args: argparse.Namespace) -> int:
    from workbench.ops import registry
    from workbench.ops.base import Context
    from workbench.store.progress import cli_progress

    op = registry.get("filter")
    try:
        params = op.params_from_args(args)
    except (ValueError, OSError) as e:
        return _fail(str(e))
    ds, ws = _open(args)
    with cli_progress("filter", total=len(ds)) as bar:
        result = op.run(ds, params, Context(progress=lambda done, total: bar(done)))
    return _finish(result, ws, args, op, params)


def cmd_dedup(args: argparse.Namespace) -> int:
    from workbench.ops.dedup import dedup_dataset, default_params
    from workbench.store.progress import cli_progress

    p = default_params(args.method)
    p.view, p.keep = args.view, args.keep
    if args.method == "exact":
        p.case, p.whitespace, p.punctuation = not args.keep_case, not args.keep_whitespace, args.ignore_punctuation
    elif args.method == "minhash":
        p.num_perm, p.ngram, p.unit, p.verify = args.num_perm, args.ngram, args.unit, args.verify
        p.bands, p.rows, p.verify_threshold = args.bands, args.rows, args.verify_threshold
        if args.threshold is not None:
            p.threshold = args.threshold
        try:
            p.validate()
        except ValueError as e:
            return _fail(str(e))
    else:
        p.model = args.model
        if args.threshold is not None:
            p.threshold = args.threshold
    if args.keep == "score" and not args.score_signal:
        return _fail("--keep score needs --score-signal NAME")
    ds, ws = _open(args)
    scores = None
    if args.score_signal:
        if ws is None:
            return _fail("--score-signal reads the workspace: drop --dry-run")
        scores = ws.signal_values(args.score_signal)
        if not scores:
            return _fail(f"no signal {args.score_signal!r} in the workspace {ws.path}")
    try:
        with cli_progress(f"dedup ({args.method})", total=len(ds)) as bar:
            result = dedup_dataset(ds, args.method, p, scores=scores, ws=ws, progress=bar)
    except ValueError as e:
        return _fail(str(e))
    return _finish(result, ws, args)


def cmd_decontam(args: argparse.Namespace) -> int:
    from workbench.data.errors import DataError
    from workbench.ops.decontam import NgramIndex, decontaminate, parse_against
    from workbench.ops.oprun import DatasetTexts
    from workbench.store.progress import cli_progress

    try:
        benches = [parse_against(spec) for spec in args.against]
        index = NgramIndex(benches, n=args.ngram)
    except (DataError, FileNotFoundError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 1
    ds, ws = _open(args)
    with cli_progress("decontam", total=len(ds)) as bar:
        result = decontaminate(DatasetTexts(ds, args.view), ds.ids, index, progress=bar)
    return _finish(result, ws, args)
