"""CLI: `workbench review-policy | agreement | assign`: several annotators on one workspace."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    from workbench.cli.common import add_dataset_args
    from workbench.store.review import RULES

    p = sub.add_parser("review-policy", help="show or set how the annotators' decisions make the dataset's")
    add_dataset_args(p)
    p.add_argument("--rule", metavar="RULE",
                   help=f"one of {', '.join(RULES)} (default single: the latest decision of anyone stands)")
    p.set_defaults(func=cmd_review_policy)

    p = sub.add_parser("agreement", help="agreement between annotators on the rows two or more decided "
                                         "(raw, Cohen's kappa per pair, Fleiss' kappa overall)")
    add_dataset_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("assign", help="split rows among annotators (their `mine` filter), with an overlap for agreement")
    add_dataset_args(p)
    p.add_argument("--to", required=True, metavar="NAMES", help="annotators, comma-separated: ana,ben,chen")
    p.add_argument("--overlap", type=float, default=0.0, metavar="F",
                   help="share of the rows given to two annotators each (default 0)")
    p.add_argument("--filter", default="", metavar="EXPR", help="assign only the rows this filter selects")
    p.add_argument("--seed", type=int, default=0, help="seed of the random order (default 0)")
    p.set_defaults(func=cmd_assign)


def _open(args, *, write: bool = True):
    from workbench.cli.common import load_dataset_and_workspace

    return load_dataset_and_workspace(args, write=write)


def cmd_review_policy(args: argparse.Namespace) -> int:
    ds, ws = _open(args, write=args.rule is not None)
    with ws:
        if args.rule is None:
            print(f"review policy: {ws.review_policy()}   annotators: {', '.join(ws.annotators()) or 'none yet'}")
            return 0
        from workbench.session import Session

        session = Session(ds, ws)
        try:
            rule = session.set_review_policy(args.rule)
        except ValueError as e:
            print(f"workbench: {e}", file=sys.stderr)
            return 2
        c = session.counts()
    print(f"review policy: {rule}   accept {c['accept']}   reject {c['reject']}   pending {c['pending']}")
    return 0


def _session(args, *, write: bool = True):
    from workbench.session import Session

    ds, ws = _open(args, write=write)
    return Session(ds, ws)


def _kappa(k: float | None) -> str:
    return "n/a (one label only)" if k is None else f"{k:.3f}"


def cmd_agreement(args: argparse.Namespace) -> int:
    session = _session(args, write=False)
    try:
        report = session.agreement()
    finally:
        session.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False))
        return 0
    if not report["items"]:
        print("no row was decided by two or more annotators yet")
        return 0
    overall = report["overall"]
    print(f"{report['items']} rows decided by two or more of {', '.join(report['raters'])}")
    print(f"  overall: agreement {overall['agreement']:.3f}   Fleiss' kappa {_kappa(overall['fleiss_kappa'])}")
    for p in report["pairs"]:
        print(f"  {p['a']} / {p['b']}: {p['items']} rows   agreement {p['agreement']:.3f}   "
              f"Cohen's kappa {_kappa(p['cohen_kappa'])}")
    return 0


def cmd_assign(args: argparse.Namespace) -> int:
    session = _session(args)
    try:
        queues = session.assign(args.to.split(","), overlap=args.overlap, expression=args.filter, seed=args.seed)
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 2
    finally:
        session.close()
    rows = len({r for q in queues.values() for r in q})
    print(f"assigned {rows} rows: " + "   ".join(f"{who} {len(q)}" for who, q in queues.items()))
    return 0
