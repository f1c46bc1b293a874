"""CLI: `workbench recipe PATH -o recipe.yaml` writes the workspace's log of operation runs as
a YAML recipe; `workbench run recipe.yaml --input DATA... -o OUT` replays it headless on
other data (a progress bar per step; unchanged steps are skipped) and exports the result;
`--engine ray` computes the steps on Ray Data (workbench.engine.ray)."""

from __future__ import annotations

import argparse
import sys

ONLY = ("not-rejected", "accepted")


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args
    from workbench.data.formats import TARGETS
    from workbench.engine.base import ENGINES, SHARD_SUFFIXES

    p = sub.add_parser("recipe", help="write the operations run on a dataset as a YAML recipe")
    add_dataset_args(p)
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="recipe.yaml", help="recipe file to write")
    p.add_argument("--with-decisions", action="store_true",
                   help="include your manual decisions, by row content (they apply to the same rows elsewhere)")
    p.set_defaults(func=cmd_recipe)

    p = sub.add_parser("run", help="replay a recipe on a dataset, headless, and export the curated rows")
    p.add_argument("recipe", metavar="RECIPE", help="a recipe file (from `workbench recipe`)")
    p.add_argument("--input", nargs="+", required=True, metavar="DATA",
                   help="dataset file(s), directories of shards or quoted globs ('shards/*.jsonl.gz')")
    p.add_argument("--format", help="force the input format instead of detecting it")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=TARGET", help="as for other commands")
    p.add_argument("--workspace", metavar="PATH", help="workspace SQLite file (default: per dataset, under XDG data)")
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="OUT",
                   help="export file; with --engine ray a directory (no suffix, or an existing one) gets shards "
                        "written by the workers")
    p.add_argument("--to", choices=TARGETS, help="export format (default: the input's format)")
    p.add_argument("--only", choices=ONLY, default="not-rejected",
                   help="keep rows not rejected (default) or only accepted rows")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where steps run: this process (default) or Ray Data (filter, dedup and decontam as stages)")
    p.add_argument("--address", metavar="ray://HOST:PORT|auto",
                   help="with --engine ray: the cluster to join (default: start a local Ray instance)")
    p.add_argument("--num-cpus", type=int, metavar="N", help="with --engine ray and no --address: CPUs of the local instance")
    p.add_argument("--shards", choices=SHARD_SUFFIXES, default="jsonl",
                   help="with --engine ray and -o DIR: the shards' container (default jsonl; --to parquet writes parquet)")
    p.set_defaults(func=cmd_run)


def cmd_recipe(args: argparse.Namespace) -> int:
    from workbench.atomic import write_text_atomic
    from workbench.cli.common import load_dataset_and_workspace
    from workbench.recipes.recipe import dump, from_workspace

    ds, ws = load_dataset_and_workspace(args)
    with ws:
        recipe = from_workspace(ws, ds, with_decisions=args.with_decisions)
    write_text_atomic(args.out, dump(recipe, source=" ".join(args.paths)))
    extra = f" and {len(recipe.decisions)} decisions" if args.with_decisions else ""
    print(f"wrote {len(recipe.steps)} steps{extra} to {args.out}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from workbench.cli.common import load_dataset, open_workspace
    from workbench.cli.ops import target_format
    from workbench.engine.base import make_engine
    from workbench.ops.base import Context
    from workbench.recipes.recipe import RecipeError, load
    from workbench.recipes.replay import replay
    from workbench.store.export import export
    from workbench.store.progress import cli_progress

    try:
        recipe = load(args.recipe)  # every step checked before anything runs
    except RecipeError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 2
    sharded = _is_directory(args.out)
    problem = _not_shardable(recipe, args) if sharded else None
    if problem:
        print(f"workbench: {problem}", file=sys.stderr)
        return 2
    args.paths = args.input
    n = len(recipe.steps)
    bars = []

    def make_context(i, step, total):
        bar = cli_progress(f"step {i + 1}/{n} {step.op}", total=total)
        b = bar.__enter__()
        bars.append(bar)
        return Context(progress=lambda done, _total: b(done), on_event=b.on_event,
                       message=lambda s: print(s, file=sys.stderr, flush=True))

    def on_step(rep) -> None:
        bars.pop().__exit__(None, None, None)
        print(f"step {recipe.steps.index(rep.step) + 1}/{n} {rep.step.op}: {rep.summary}", file=sys.stderr)

    try:
        engine = make_engine(args.engine, address=args.address, num_cpus=args.num_cpus)
    except (ConnectionError, RuntimeError, ValueError) as e:
        print(f"workbench: cannot start the {args.engine} engine: {e}", file=sys.stderr)
        return 1
    with engine:
        ds = _ray_input(args) if sharded else load_dataset(args)
        to = target_format(args.to, args.out, ds)
        with open_workspace(args, ds) as ws:
            try:
                reports = replay(recipe, ds, ws, make_context=make_context, on_step=on_step, engine=engine)
            except RecipeError as e:
                for bar in bars:
                    bar.__exit__(None, None, None)
                print(f"workbench: {e}", file=sys.stderr)
                return 1
            if reports and reports[-1].status == "cancelled":
                return 130
            if sharded:
                from workbench.engine.ray import write_shards

                summary = write_shards(ds, ws, to, args.out, only=args.only, suffix=args.shards)
            else:
                summary = export(ds, ws, to, args.out, only=args.only)
    shards = f" in {summary['files']} shards" if sharded else ""
    print(f"wrote {summary['rows']} of {summary['total']} rows to {summary['out']}{shards} ({to})")
    for reason, k in summary["left_out"].items():
        print(f"  left out {k}: {reason}")
    return 0


def _is_directory(out: str) -> bool:
    """-o names a directory of shards: an existing directory, or a path without a suffix."""
    from pathlib import Path

    return out != "-" and (Path(out).is_dir() or not Path(out).suffix)


def _not_shardable(recipe, args: argparse.Namespace) -> str | None:
    """Why the recipe cannot write shards from the Ray workers (None when it can): every
    step must be a Ray stage on all rows, with no recorded decisions (they match rows by
    content, in the driver)."""
    from workbench.engine.base import RAY_STAGES

    if args.engine != "ray":
        return f"{args.out}: a directory of shards is written by --engine ray; name a file for the local engine"
    if recipe.decisions:
        return (f"{recipe.path}: the recipe holds decisions (matched by content in the driver): "
                "name an output file (-o FILE) to replay it")
    for i, step in enumerate(recipe.steps):
        if step.op not in RAY_STAGES or step.select != "all":
            what = "selects rows" if step.op in RAY_STAGES else "is not a Ray stage"
            return (f"{recipe.path}:{step.line}: step {i + 1} ({step.op}) {what}; shards are written when every step "
                    f"is one of {', '.join(RAY_STAGES)} on all rows: name an output file (-o FILE) instead")
    return None


def _ray_input(args: argparse.Namespace):
    """The --input paths as a RayInput (read by the Ray workers); a bad path or row ends the
    command with exit 1 and one line."""
    from workbench.cli.common import input_paths, read_options
    from workbench.data.errors import DataError
    from workbench.engine.ray import RayInput

    opts = read_options(args)
    opts.pop("on_error")  # `run` stops at the first bad row
    try:
        return RayInput(input_paths(args), **opts)
    except (DataError, FileNotFoundError, IsADirectoryError, ValueError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None
