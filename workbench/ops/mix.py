"""Data mixing: draw a mixture of the open sources (or topics, or kinds) by weights or by
temperature sampling over their sizes, reproducible by seed.

Each group g gets a target of rows: with weights, `total * w_g / sum(w)`; with temperature T,
`total * n_g^(1/T) / sum(n^(1/T))` (T = 1 keeps the natural proportions, larger T flattens them
towards uniform, as multilingual and multi-task mixtures do). Targets are rounded by the
largest remainder so they sum to `total`. A group asked for fewer rows than it has is
down-sampled without replacement; one asked for more repeats every row `target // n` times and
draws the remainder without replacement, and the report says so.

The result is reviewable like any other operation's: rows not drawn are proposed rejections
("mix: not drawn"), and each drawn row gets a `copies` signal, which export honours by writing
the row that many times. The report gives the composition: rows and tokens per group.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from workbench.ops.base import Context, Operation, ParamError, Params, Result, param, records_of

BY = ("source", "topic", "kind")
NOT_DRAWN = "mix: not drawn"


@dataclass
class MixParams(Params):
    weights: list[str] = param(factory=list, help="GROUP:WEIGHT pairs (a source file name, topic or kind); "
                                                  "none: temperature sampling over the groups' sizes")
    total: int | None = param(None, help="rows in the mixture (default: as many rows as the dataset has)")
    by: str = param("source", choices=BY, help="what the weights name")
    temperature: float = param(1.0, help="temperature over group sizes when no weights are given")
    seed: int = param(0, help="seed of the draw")
    tokenizer: str | None = param(None, help="tokenizer for the composition's token counts "
                                             "(default: the bundled SmolLM2 one; 'none': no token counts)")

    def validate(self) -> None:
        super().validate()
        if self.total is not None and self.total < 1:
            raise ParamError(f"total must be at least 1, not {self.total}")
        if self.temperature <= 0:
            raise ParamError(f"temperature must be above 0, not {self.temperature}")
        for w in self.weights:
            _parse_weight(w)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _parse_weight(item: str) -> tuple[str, float]:
    group, sep, weight = item.rpartition(":")
    try:
        value = float(weight)
    except ValueError:
        value = -1.0
    if not sep or not group or value < 0:
        raise ParamError(f"a weight is GROUP:WEIGHT with a number of at least 0, not {item!r}")
    return group, value


def targets(sizes: dict[str, int], total: int, weights: dict[str, float] | None, temperature: float) -> dict[str, int]:
    """Rows to draw per group (summing to `total`), by weights or by temperature over sizes."""
    if weights:
        share = {g: weights.get(g, 0.0) for g in sizes}
    else:
        share = {g: n ** (1.0 / temperature) for g, n in sizes.items()}
    norm = sum(share.values())
    if norm <= 0:
        raise ParamError("every weight is 0: nothing to draw")
    exact = {g: total * s / norm for g, s in share.items()}
    out = {g: int(v) for g, v in exact.items()}
    for g in sorted(exact, key=lambda g: (-(exact[g] - out[g]), g))[: total - sum(out.values())]:
        out[g] += 1
    return out


class Mix(Operation):
    name = "mix"
    Params = MixParams
    scope = "dataset"
    exports = True

    def params_from_args(self, args) -> MixParams:
        """`workbench mix a.jsonl:2 b.jsonl:1 ...`: a weight after a path's last colon is
        taken off the path (which must exist) and added to --weights."""
        weights = list(getattr(args, "weights", None) or [])
        paths = []
        for p in args.paths:
            head, sep, tail = p.rpartition(":")
            if sep and head and Path(head).exists() and _is_number(tail):
                paths.append(head)
                weights.append(f"{Path(head).name}:{tail}")
            else:
                paths.append(p)
        args.paths = paths
        if weights:
            args.weights = weights
        return super().params_from_args(args)

    def describe(self, result: Result) -> str:
        lines = [result.summary]
        composition = result.report.get("composition", {})
        label = _labels(list(composition))
        for g, c in composition.items():
            tokens = f", {c['tokens']:,} tokens" if "tokens" in c else ""
            lines.append(f"  {label[g]}: {c['rows']} rows of {c['available']} ({c['share']:.1%}{tokens})")
        return "\n".join(lines)

    def run(self, ds, params: MixParams, ctx: Context, rows: list[str] | None = None) -> Result:
        groups: dict[str, list[str]] = defaultdict(list)
        topics = ctx.ws.signal_values("topic") if params.by == "topic" and ctx.ws is not None else {}
        if params.by == "topic" and not topics:
            raise ParamError("--by topic needs a topic map: run `workbench map` first")
        texts: dict[str, list[str]] = defaultdict(list)
        from workbench.data.record import full_text

        where: dict[str, str] = {}  # row id -> its source, to refuse ids that name two rows
        for batch in records_of(ds, rows):
            ctx.check()
            for rec in batch:
                if rec["id"] in where:
                    raise ValueError(f"row id {rec['id']!r} names two rows ({Path(where[rec['id']]).name} and "
                                     f"{Path(rec.get('source') or '').name}): a mix draws rows by id, so each row "
                                     "needs its own; give the sources distinct ids (or none: then ids are FILE:ROW)")
                where[rec["id"]] = rec.get("source") or ""
                g = _group(rec, params.by, topics)
                groups[g].append(rec["id"])
                texts[g].append(full_text(rec))
        sizes = {g: len(ids) for g, ids in groups.items()}
        weights = dict(_parse_weight(w) for w in params.weights)
        if weights:
            weights = {_match(g, sizes, params.by): w for g, w in weights.items()}
        total = params.total or sum(sizes.values())
        want = targets(sizes, total, weights or None, params.temperature)
        rng = random.Random(params.seed)
        copies: dict[str, int] = {}
        repeated: dict[str, int] = {}
        for g in sorted(groups):
            ids = sorted(groups[g])  # a fixed order before the seeded draw
            full, rest = divmod(want[g], len(ids))
            drawn = set(rng.sample(ids, rest))
            for rid in ids:
                copies[rid] = full + (rid in drawn)
            if want[g] > len(ids):
                repeated[g] = want[g] - len(ids)
        tokens = _token_counts(texts, params.tokenizer)
        composition = {g: {"available": sizes[g], "rows": want[g],
                           "share": round(want[g] / total, 4),
                           **({"tokens": round(tokens[g] * want[g] / sizes[g])} if tokens else {})}
                       for g in sorted(groups)}
        result = Result(self.name, params.to_dict())
        result.rejects = {rid: NOT_DRAWN for rid, k in copies.items() if k == 0}
        result.signals = [(rid, "copies", k) for rid, k in copies.items() if k > 0]
        result.report = {"rows": sum(sizes.values()), "total": total, "by": params.by,
                         "composition": composition, "repeated": repeated}
        # kept with the run, for the Stats pane (workbench.explore.stats.composition)
        result.counts = {"mixture": {k: result.report[k] for k in ("total", "by", "composition", "repeated")}}
        label = _labels(list(composition))
        up = f"; {sum(repeated.values())} repeated rows in {', '.join(label[g] for g in repeated)}" if repeated else ""
        result.summary = (f"mix of {total} rows by {params.by}: "
                          + ", ".join(f"{label[g]} {c['rows']}" for g, c in composition.items()) + up)
        return result


def _labels(groups: list[str]) -> dict[str, str]:
    """Short names for people: a source's file name when no two sources share it."""
    names = {g: Path(g).name or g for g in groups}
    return names if len(set(names.values())) == len(names) else {g: g for g in groups}


def _group(rec: dict, by: str, topics: dict[str, str]) -> str:
    if by == "kind":
        return rec["kind"]
    if by == "topic":
        return str(topics.get(rec["id"], "unlabelled"))
    return rec.get("source") or "<memory>"


def _match(name: str, sizes: dict[str, int], by: str) -> str:
    """The group a weight names: exactly, or for sources by file name or stem."""
    if name in sizes:
        return name
    if by == "source":
        hits = [g for g in sizes if Path(g).name == name or Path(g).stem == name]
        if len(hits) == 1:
            return hits[0]
    raise ParamError(f"no {by} called {name!r}; the {by}s are: {', '.join(sorted(sizes))}")


def _token_counts(texts: dict[str, list[str]], tokenizer: str | None) -> dict[str, int] | None:
    """Tokens per group (of the rows available), or None when asked for none."""
    if tokenizer == "none":
        return None
    from workbench.templates import load_tokenizer

    tok = load_tokenizer(tokenizer)
    return {g: sum(len(ids) for ids, _ in tok.encode_batch(ts)) for g, ts in texts.items()}
