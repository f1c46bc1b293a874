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
    from workbench.engine.base import ENGINES

    p = sub.add_parser("recipe", help="write the operations run on a dataset as a YAML recipe")
    add_dataset_args(p)
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="recipe.yaml", help="recipe file to write")
    p.add_argument("--with-decisions", action="store_true",
                   help="include your manual decisions, by row content (they apply to the same rows elsewhere)")
    p.set_defaults(func=cmd_recipe)

    p = sub.add_parser("run", help="replay a recipe on a dataset, headless, and export the curated rows")
    p.add_argument("recipe", metavar="RECIPE", help="a recipe file (from `workbench recipe`)")
    p.add_argument("--input", nargs="+", required=True, metavar="DATA", help="dataset file(s) or directory")
    p.add_argument("--format", help="force the input format instead of detecting it")
    p.add_argument("--map", action="append", default=[], metavar="FIELD=TARGET", help="as for other commands")
    p.add_argument("--workspace", metavar="PATH", help="workspace SQLite file (default: per dataset, under XDG data)")
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="OUT", help="export file")
    p.add_argument("--to", choices=TARGETS, help="export format (default: the input's format)")
    p.add_argument("--only", choices=ONLY, default="not-rejected",
                   help="keep rows not rejected (default) or only accepted rows")
    p.add_argument("--engine", choices=ENGINES, default="local",
                   help="where steps run: this process (default) or Ray Data (filter, dedup and decontam as stages)")
    p.add_argument("--address", metavar="ray://HOST:PORT|auto",
                   help="with --engine ray: the cluster to join (default: start a local Ray instance)")
    p.add_argument("--num-cpus", type=int, metavar="N", help="with --engine ray and no --address: CPUs of the local instance")
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
    args.paths = args.input
    ds = load_dataset(args)
    to = target_format(args.to, args.out, ds)
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
    with engine, open_workspace(args, ds) as ws:
        try:
            reports = replay(recipe, ds, ws, make_context=make_context, on_step=on_step, engine=engine)
        except RecipeError as e:
            for bar in bars:
                bar.__exit__(None, None, None)
            print(f"workbench: {e}", file=sys.stderr)
            return 1
        if reports and reports[-1].status == "cancelled":
            return 130
        summary = export(ds, ws, to, args.out, only=args.only)
    print(f"wrote {summary['rows']} of {summary['total']} rows to {summary['out']} ({to})")
    for reason, k in summary["left_out"].items():
        print(f"  left out {k}: {reason}")
    return 0
