"""CLI: `workbench dedup --method exact|minhash|embedding`, one command over the three dedup
operations (dedup-exact, dedup-minhash, dedup-embedding), with the flags it always had.
The other operations' commands are generated from the registry (workbench/cli/ops.py)."""

from __future__ import annotations

import argparse

VIEWS = ("conversation", "prompt", "answer", "all")


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args

    p = sub.add_parser("dedup", help="cluster duplicate rows (exact, MinHash near-duplicates, or embeddings)")
    add_dataset_args(p)
    p.add_argument("--method", choices=("exact", "minhash", "embedding"), default="minhash",
                   help="exact: equal normalised text; minhash: near-duplicates (default); embedding: same meaning")
    p.add_argument("--view", choices=VIEWS, default="conversation",
                   help="text compared: the conversation without the system prompt (default: what varies "
                        "between rows), the prompt, the answer, or all of the text (system prompt included)")
    p.add_argument("--keep", choices=("longest", "score", "first"),
                   help="which member of a cluster is kept: longest (default for minhash and embedding; ties "
                        "by content, so a reordered copy keeps the same rows), score, or first (the earliest "
                        "row in reading order; default for exact, whose members are equal)")
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
    p.add_argument("--where", metavar="EXPR", help="only the rows a filter picks (e.g. 'status=pending')")
    p.add_argument("--report", metavar="R.json", help="write the full report as JSON")
    p.add_argument("--dry-run", action="store_true", help="do not write to the workspace")
    p.set_defaults(func=cmd_dedup)


class _Flags:
    """The dedup flags as the chosen operation's parameters (its params_from_args)."""

    def __init__(self, op):
        self.op = op

    def __getattr__(self, name):
        return getattr(self.op, name)

    def params_from_args(self, args: argparse.Namespace):
        given = {"view": args.view, "score_signal": args.score_signal}
        if args.keep:
            given["keep"] = args.keep
        if args.method == "exact":
            given.update(case=not args.keep_case, whitespace=not args.keep_whitespace,
                         punctuation=args.ignore_punctuation)
        elif args.method == "minhash":
            given.update(num_perm=args.num_perm, ngram=args.ngram, unit=args.unit, verify=args.verify,
                         bands=args.bands, rows=args.rows, verify_threshold=args.verify_threshold)
        else:
            given.update(model=args.model)
        if args.threshold is not None and args.method != "exact":
            given["threshold"] = args.threshold
        return self.op.params_from_dict(given)


def cmd_dedup(args: argparse.Namespace) -> int:
    from workbench.cli.ops import run_command
    from workbench.ops import registry

    return run_command(_Flags(registry.get(f"dedup-{args.method}")), args)
