"""Sub-commands generated from the operations registry: one per operation with a `cli` path
(`workbench filter`, `workbench judge`, `workbench generate cot`, ...). Each takes the
dataset arguments, the operation's own flags (from its Params), and runs it through
workbench.engine.local.run_step: the operation's Result is saved as one run in the dataset's
workspace (signals, proposed rejections, new rows for review), then summarised.

Operations that make rows (`generate ...`) also write them to -o OUT in the input's format
(or --to): failed rows are listed on stderr and left out, and the exit status is 1 if any
failed. LLM jobs checkpoint in the workspace, so running the same command again after an
interruption resumes it; the LLM response cache there answers prompts already asked.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path

GROUPS = {"generate": "generate or rewrite rows with an LLM (self-instruct, evol, cot, ...)"}


def register(sub, argv: list[str] | None = None) -> None:
    """One sub-command per registry entry with a command path. Only the command `argv` names
    gets its flags (which imports its operation); the others are listed by their help line, so
    `workbench --help` imports no operation. With `argv` None every command is complete."""
    from workbench.ops import registry

    groups: dict[str, argparse._SubParsersAction] = {}
    for name, entry in registry.OPERATIONS.items():
        path = entry.cli
        if not path:
            continue
        parent = sub
        for i, part in enumerate(path[:-1]):
            if part not in groups:
                g = parent.add_parser(part, help=GROUPS.get(part))
                groups[part] = g.add_subparsers(dest=f"{part}_{i}", metavar="OPERATION", required=True)
            parent = groups[part]
        p = parent.add_parser(path[-1], help=entry.help, description=entry.help)
        if argv is None or list(argv[: len(path)]) == list(path):
            add_arguments(registry.get(name), p)


def add_arguments(op, p: argparse.ArgumentParser) -> None:
    """The command's flags: the dataset's, the operation's own (from its Params), the selection
    and the outputs."""
    from workbench.cli.common import add_dataset_args
    from workbench.data.formats import TARGETS

    add_dataset_args(p)
    op.add_arguments(p)
    if op.scope == "row":
        p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.add_argument("--where", metavar="EXPR", help="only the rows a filter picks, as in the TUI "
                   "(e.g. 'status=pending judge.score>=4'); recorded for recipes")
    if op.review:
        p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="OUT", help="output file")
        p.add_argument("--to", choices=TARGETS, help="output format (default: the input's format)")
        if not any(a.dest == "seed" for a in p._actions):
            p.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)  # accepted, as before
    else:
        p.add_argument("--report", metavar="R.json", help="write the full report as JSON")
    if op.fail_on:
        p.add_argument(f"--fail-on-{op.fail_on}", dest="fail_on", action="store_true",
                       help="exit with status 3 when any row is flagged (for CI scripts)")
    if op.exports:
        p.add_argument("-o", "--output", dest="out", metavar="OUT",
                       help="then write the curated rows (decisions applied, as export does) to OUT")
        p.add_argument("--to", choices=TARGETS, help="format of OUT (default: the input's format)")
    if op.page:
        p.add_argument("--html", metavar="OUT.html", help="also write the result as a self-contained page to share")
    if not op.needs_ws:
        p.add_argument("--dry-run", action="store_true", help="do not write to the workspace")
    p.set_defaults(func=partial(run_command, op))


def fail(msg: str, code: int = 2) -> int:
    print(f"workbench: {msg}", file=sys.stderr)
    return code


def run_command(op, args: argparse.Namespace) -> int:
    from workbench.cli.common import load_dataset, open_workspace
    from workbench.data.errors import DataError
    from workbench.engine.local import run_step
    from workbench.ops.base import Context
    from workbench.store.progress import cli_progress

    try:
        params = op.params_from_args(args)
    except (ValueError, OSError) as e:  # a bad value, an unreadable rules / prompt file
        return fail(str(e))
    ds = load_documents(args.paths) if op.documents else load_dataset(args)
    ws = None if getattr(args, "dry_run", False) else open_workspace(args, ds)
    rows, selection = None, None
    if getattr(args, "where", None):
        from workbench.session import Session

        try:
            rows = Session(ds, ws).select(args.where) if ws is not None else None
        except ValueError as e:
            return fail(f"--where: {e}")
        if rows is None:
            return fail("--where reads the workspace: drop --dry-run")
        selection = {"filter": args.where}
    if getattr(args, "limit", None):
        rows = (rows if rows is not None else ds.ids)[: args.limit]
        selection = None
    try:
        with cli_progress(op.name, total=len(ds) if rows is None else len(rows)) as bar:
            ctx = Context(progress=lambda done, total: bar(done), on_event=bar.on_event, ws=ws,
                          message=lambda s: print(s, file=sys.stderr, flush=True))
            outcome = run_step(op, ds, ws, params, rows=rows, selection=selection, ctx=ctx)
        exported = _export_after(op, ds, ws, args) if outcome.status == "done" else None
    except (ValueError, OSError, DataError) as e:  # input the operation cannot use (a benchmark file without that field)
        return fail(str(e), 1)
    finally:
        if ws is not None:
            ws.close()
    if outcome.status == "cancelled":
        print(f"{op.name}: cancelled; nothing saved", file=sys.stderr)
        return 130
    res = outcome.result
    if op.review:
        return _write_rows(op, res, ds, args)
    _list_failures(res)
    if op.uses_llm or op.needs_ws:
        print(op.describe(res))
        return 1 if res.errors or res.status != "done" else 0
    where = (f"; run {outcome.run_id} in workspace {ws.path}" if ws is not None
             else " (dry run: workspace untouched)")
    if args.report:
        from workbench.atomic import write_json_atomic

        write_json_atomic(args.report, res.report)
        where += f"; report {args.report}"
    lines = op.describe(res).split("\n", 1)
    print(lines[0] + (where if not op.name == "map" and not op.name == "embed" else ""))
    if len(lines) > 1:
        print(lines[1])
    if getattr(args, "html", None):
        from workbench.cli.explore import write_page

        write_page(args.html, op.html(res, ds))
    if exported:
        print(f"wrote {exported['rows']} rows to {exported['out']} ({exported['format']})")
    if getattr(args, "fail_on", False) and res.rejects:
        print(f"{op.name}: {len(res.rejects)} row(s) flagged (--fail-on-{op.fail_on})", file=sys.stderr)
        return 3
    return 0


def load_documents(paths: list[str]):
    """Documents as a dataset of `text` rows; an unreadable one ends the command (exit 1)."""
    from workbench.data.dataset import Dataset
    from workbench.data.documents import document_records
    from workbench.data.errors import DataError

    try:
        return Dataset.from_records(list(document_records(paths)), sources=paths)
    except DataError as e:
        print(f"workbench: {e}", file=sys.stderr)
        raise SystemExit(1) from None


def _export_after(op, ds, ws, args) -> dict | None:
    """`-o OUT` of an operation that exports: the dataset with every decision applied."""
    if not op.exports or not getattr(args, "out", None):
        return None
    if ws is None:
        raise ValueError("-o writes the rows the workspace keeps: drop --dry-run")
    from workbench.store.export import export

    return export(ds, ws, target_format(args.to, args.out, ds), args.out)


def _list_failures(res) -> None:
    for rid, err in res.errors.items():
        print(f"failed {rid}: {err.splitlines()[0]}", file=sys.stderr)
    for rid, why in res.dropped.items():
        print(f"dropped {rid}: {why}", file=sys.stderr)
    u = res.usage
    if u:
        print(f"llm: {u['calls']} calls ({u['cached']} cached, {u['retries']} retries), "
              f"{u['prompt_tokens']} prompt + {u['completion_tokens']} completion tokens, "
              f"cost ${u['cost']:.4f}", file=sys.stderr)


def target_format(to: str | None, out: str, ds) -> str:
    """The format to write: `to`, else parquet for a .parquet file, else the input's format
    (trl rows are written by the openai target; plain text cannot hold a conversation)."""
    if to:
        return to
    if Path(out).suffix == ".parquet":
        return "parquet"
    fmt = next(iter(ds.formats.values()), None)
    from workbench.data.formats import TARGETS

    return fmt if fmt in TARGETS and fmt != "text" else "openai"


def _write_rows(op, res, ds, args) -> int:
    from workbench.data.writers import write_records

    to = target_format(args.to, args.out, ds)
    report = write_records(res.rows, to, args.out)
    _list_failures(res)
    for lost in report.get("lost", []):
        print(f"warning: {lost['row']}: {to} cannot hold {lost['what']}", file=sys.stderr)
    job = f"job {res.job_id}; " if res.job_id is not None else ""
    print(f"{op.cli[-1]}: wrote {report['rows']} rows to {args.out} ({to}); {len(res.errors)} failed; "
          f"{job}the rows are in the Gen pane for review", file=sys.stderr)
    return 1 if res.errors or res.status != "done" else 0
