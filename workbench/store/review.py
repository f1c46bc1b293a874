"""Several annotators on one dataset: who decides, and how their decisions make the dataset's.

Each annotator (a name; by default the login name) holds at most one decision per row. The
dataset's decision on a row is derived from them by the workspace's review policy:

- `single`: the latest decision of anyone stands (one decider; the behaviour before annotators),
- `majority`: the status more than half of the row's accept/reject votes chose, else pending,
- `unanimous`: the status all of the row's accept/reject votes chose, else pending,
- `owner:NAME`: NAME's decision alone; the others' do not count.

A "pending" decision (a reset) is no vote under majority and unanimous. A row no person
decided (or, under owner:NAME, that NAME did not decide) takes an operation's proposal, as
before: operations' proposals stay apart from people's decisions.
"""

from __future__ import annotations

import getpass
from collections import Counter
from typing import Iterable

RULES = ("single", "majority", "unanimous", "owner:NAME")
DEFAULT_RULE = "single"
POLICY_KEY = "review_policy"  # the workspace meta key holding the rule


def default_annotator() -> str:
    """The login name (getpass.getuser), or "user" where the system has none (a container)."""
    try:
        return getpass.getuser() or "user"
    except (OSError, KeyError):
        return "user"


def check_name(name: str) -> str:
    """An annotator name as given, stripped; ValueError when empty, or with a comma or space."""
    name = name.strip()
    if not name or any(c in name for c in ", \t\n") or name.startswith("op:"):
        raise ValueError(f"annotator name {name!r}: give a non-empty name without commas or spaces")
    return name


def parse_rule(text: str) -> str:
    """A review rule as stored: one of `single`, `majority`, `unanimous`, `owner:NAME`.
    ValueError naming the accepted forms."""
    text = text.strip()
    if text in ("single", "majority", "unanimous"):
        return text
    if text.startswith("owner:"):
        return "owner:" + check_name(text.removeprefix("owner:"))
    raise ValueError(f"review rule {text!r}: expected one of {', '.join(RULES)}")


def derive(votes: Iterable[tuple[str, str, float]], rule: str) -> str | None:
    """The dataset's status on one row from its annotators' decisions (by, status, time) under
    `rule`; None when no person's decision counts (then an operation's proposal may stand)."""
    votes = list(votes)
    if not votes:
        return None
    if rule == "single":
        return max(votes, key=lambda v: (v[2], v[0]))[1]
    if rule.startswith("owner:"):
        owner = rule.removeprefix("owner:")
        return next((s for by, s, _ in votes if by == owner), None)
    tally = Counter(s for _, s, _ in votes if s != "pending")
    if rule == "majority":
        top = tally.most_common(1)
        return top[0][0] if top and top[0][1] * 2 > sum(tally.values()) else "pending"
    if rule == "unanimous":
        return next(iter(tally)) if len(tally) == 1 else "pending"
    raise ValueError(f"unknown review rule {rule!r}")
