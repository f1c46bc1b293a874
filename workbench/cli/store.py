"""CLI: `workbench decide | undo | redo | status | jobs | export` over a dataset's workspace."""

from __future__ import annotations

import argparse
import json
import sys
import time


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args, add_user_arg

    p = sub.add_parser("decide", help="accept, reject or reset rows by id")
    add_dataset_args(p)
    p.add_argument("--row", action="append", required=True, metavar="ID",
                   help="row id or row number (0-based, #N as the TUI shows it; repeatable: several rows form one undo step)")
    g = p.add_mutually_exclusive_group(required=True)
    for s in ("accept", "reject", "pending"):
        g.add_argument(f"--{s}", dest="status", action="store_const", const=s)
    p.add_argument("--note", help="a note kept with the decision")
    p.add_argument("--tag", action="append", metavar="TAG", help="tag the row(s) (repeatable)")
    add_user_arg(p)
    p.set_defaults(func=cmd_decide)

    for name, what in (("undo", "undo the latest decision step"), ("redo", "redo the step undone last")):
        p = sub.add_parser(name, help=f"{what} (a decide with several rows is one step)")
        add_dataset_args(p)
        add_user_arg(p)
        p.set_defaults(func=cmd_undo_redo, action=name)

    p = sub.add_parser("status", help="decision counts and recent jobs of a dataset's workspace")
    add_dataset_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("jobs", help="operation runs and jobs recorded in the workspace")
    add_dataset_args(p)
    p.add_argument("--limit", type=int, default=20, help="how many recent runs (default 20)")
    p.add_argument("--errors", type=int, metavar="JOB_ID", help="list the per-row errors of one job")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_jobs)

    from workbench.data.formats import TARGETS
    from workbench.handoff.trainers import TRAINERS
    from workbench.store.export import KINDS

    p = sub.add_parser("export", help="write the curated rows (decisions applied) in a trainer's format")
    add_dataset_args(p)
    p.add_argument("--to", choices=TARGETS, help="output format (with --for: chosen for the trainer)")
    p.add_argument("--for", dest="trainer", choices=TRAINERS,
                   help="write a folder for this trainer: the data and its config (dataset_info.json, axolotl.yaml)")
    p.add_argument("-o", "--output", "--out", dest="out", required=True, metavar="OUT",
                   help="output file (its suffix names the container: .jsonl .json .parquet, .gz; - for stdout); "
                        "with --for, a folder")
    p.add_argument("--only", choices=("not-rejected", "accepted"), default="not-rejected",
                   help="keep rows not rejected (default) or only accepted rows")
    p.add_argument("--kind", choices=KINDS, help="export only rows of this kind (an export holds one kind)")
    p.add_argument("--test-size", type=float, metavar="F", help="also write a test split of this fraction")
    p.add_argument("--test-rows", type=int, metavar="N", help="also write a test split of N rows")
    p.add_argument("--seed", type=int, default=0, help="seed of the split (default 0)")
    p.add_argument("--merge-splits", action="store_true",
                   help="write the rows of all the dataset's own splits (train, test...) into one file; "
                        "by default each split gets its own file")
    p.add_argument("--with-signals", metavar="NAMES",
                   help="add workspace signals as columns: NAME or OP.NAME, comma-separated, or all")
    p.add_argument("--name", default="workbench", help="dataset name in the trainer's config (default workbench)")
    p.add_argument("--chat-template", metavar="SPEC",
                   help="with --for axolotl: train with this template (built-in name, jinja:FILE, tokenizer:DIR)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=cmd_export)


def _open(args, *, write: bool = True):
    from workbench.cli.common import load_dataset_and_workspace

    return load_dataset_and_workspace(args, write=write)


def _when(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def _reconcile_first(ds, ws) -> None:
    """Bring earlier decisions up to date with an edited source before writing new ones: a new
    decision on a renumbered id must not replace the one that should move off it."""
    from workbench.store.reconcile import describe, reconcile

    notice = describe(reconcile(ds, ws))
    if notice:
        print(f"workbench: {notice}", file=sys.stderr)


def cmd_decide(args: argparse.Namespace) -> int:
    ds, ws = _open(args)
    with ws:
        _reconcile_first(ds, ws)
        from workbench.cli.common import row_position

        try:
            rows = list(dict.fromkeys(ds.ids[row_position(ds, r)] for r in args.row))
        except ValueError as e:
            print(f"workbench: {e}", file=sys.stderr)
            return 1
        from workbench.store.reconcile import content_hashes
        from workbench.store.review import default_annotator

        ws.decide_many(rows, args.status, note=args.note, tags=args.tag, by=args.user,
                       content=content_hashes(ds, rows))
        print(f"{args.status}: {', '.join(rows)}  (by {args.user or default_annotator()}, workspace {ws.path})")
    return 0


def cmd_undo_redo(args: argparse.Namespace) -> int:
    ds, ws = _open(args)
    with ws:
        _reconcile_first(ds, ws)  # undo history naming renumbered ids is dropped, not replayed
        rows = ws.undo(args.user) if args.action == "undo" else ws.redo(args.user)
        from workbench.store.reconcile import content_hashes

        ws.add_content(content_hashes(ds, rows))  # the history holds a TUI bulk decision unhashed
        statuses = {r: (ws.decision(r) or {}).get("status", "pending") for r in rows}
    if not rows:
        print(f"nothing to {args.action}")
        return 1
    print(f"{args.action}: " + ", ".join(f"{r} -> {s}" for r, s in statuses.items()))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from workbench.session import Session
    from workbench.store.reconcile import describe, reconcile

    ds, ws = _open(args, write=False)
    with ws:
        changed = reconcile(ds, ws)
        session = Session(ds, ws)  # the counts the TUI, `stats` and export use
        counts, why, generated = session.counts(), session.rejected_by(), session.generated_counts()
        info = {"dataset": ds.name, "rows": len(ds), "workspace": str(ws.path), "counts": counts,
                "reviewed": session.review_progress()["reviewed"],
                "rejected_by": why, "generated": generated, "moved": changed["moved"],
                "orphaned": len(ws.orphans()), "withdrawn": changed["withdrawn"], "jobs": ws.runs(5),
                "review_policy": ws.review_policy(), "annotators": session.progress()}
        orphaned = info["orphaned"]
    if args.json:
        print(json.dumps(info, ensure_ascii=False))
        return 0
    print(f"{info['dataset']}: {len(ds)} rows   workspace {ws.path}")
    print(f"  accept {counts['accept']}   reject {counts['reject']}   pending {counts['pending']}")
    print(f"  reviewed {info['reviewed']} of {len(ds)} (accepted or rejected by a person; "
          "an operation's proposal waits for one)")
    if why:
        print("  rejected by: " + ", ".join(f"{k} {v}" for k, v in sorted(why.items())))
    if info["annotators"]:
        print(f"  annotators (review policy {info['review_policy']}):")
        for who, p in info["annotators"].items():
            queue = f"{p['done']}/{p['assigned']} assigned done" if p["assigned"] else "nothing assigned"
            print(f"    {who:<12} {queue}   {p['decided']} decided")
    if any(generated.values()):
        print("  generated rows under review (not counted above): "
              + "   ".join(f"{k} {generated[k]}" for k in ("accept", "reject", "pending")))
    if describe(changed):
        print("  " + describe(changed))
    if orphaned:
        print(f"  {_set_aside(orphaned)}")
    if info["jobs"]:
        print("recent jobs:")
        _print_runs(info["jobs"])
    return 0


def _set_aside(n: int) -> str:
    return f"{n} decision(s) set aside, not applied: the content they were made on is gone from the source"


def _print_runs(runs: list[dict]) -> None:
    for r in runs:
        c = r["counts"]
        counts = "  ".join(f"{k} {c[k]}" for k in ("ok", "failed", "skipped", "total") if k in c)
        print(f"  #{r['id']:<4} {r['op']:<20} {r['status']:<10} {_when(r['started'])}  {counts}")


def cmd_jobs(args: argparse.Namespace) -> int:
    _, ws = _open(args, write=False)
    with ws:
        if args.errors is not None:
            if ws.run(args.errors) is None:
                print(f"workbench: no job #{args.errors} in {ws.path}", file=sys.stderr)
                return 1
            errors = ws.job_errors(args.errors)
            if args.json:
                print(json.dumps(errors, ensure_ascii=False))
            else:
                for rid, err in errors.items():
                    print(f"{rid}: {err.splitlines()[0] if err else ''}")
                print(f"{len(errors)} row error(s) in job #{args.errors}")
            return 0
        runs = ws.runs(args.limit)
    if args.json:
        print(json.dumps(runs, ensure_ascii=False))
    elif runs:
        _print_runs(runs)
    else:
        print("no jobs yet")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from workbench.data.formats.base import RowError
    from workbench.handoff.export_params import ExportParams, export_with
    from workbench.store.progress import cli_progress

    try:
        params = ExportParams.from_args(args)
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 2
    ds, ws = _open(args, write=False)
    to_stdout = args.out == "-"
    with ws, cli_progress("export", total=len(ds)) as bar:
        try:
            summary = export_with(ds, ws, params, progress=bar)
        except BrokenPipeError:
            raise  # a reader of stdout that stopped early (head) is not a failure
        except (OSError, ValueError, RowError) as e:
            print(f"workbench: export failed: {e}", file=sys.stderr)
            return 1
    if to_stdout:  # the rows went to stdout; the summary goes to stderr
        print(f"wrote {summary['rows']} of {summary['total']} rows", file=sys.stderr)
        return 0
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    what = f"for {args.trainer}, {summary['kind']}" if args.trainer else args.to
    for f in summary["files"]:
        label = "" if f["split"] == "all" else f" ({f['split']})"
        print(f"wrote {f['rows']} rows to {f['out']}{label}")
    print(f"{summary['rows']} of {summary['total']} rows exported ({what})")
    if summary.get("config"):
        print(f"  config: {summary['config']}")
    for reason, n in summary["left_out"].items():
        print(f"  left out {n}: {reason}")
    if summary["moved"]:
        print(f"  {summary['moved']} decision(s) moved with their rows: the source changed since they were made")
    if summary["orphaned"]:
        print(f"  {_set_aside(summary['orphaned'])}")
    if summary["withdrawn"]:
        print(f"  {summary['withdrawn']} proposed rejection(s) withdrawn: the source changed since their operations ran")
    lost = summary["lost"]
    if lost:
        print(f"  {len(lost)} thing(s) the {summary['format']} format cannot hold, e.g.:")
        for item in lost[:5]:
            print(f"    {item.get('row')}: {item.get('what')}")
    if summary.get("next"):
        print(f"next: {summary['next']}")
    return 0
