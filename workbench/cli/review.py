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
