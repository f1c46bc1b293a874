"""CLI: `workbench generate {self-instruct,evol,cot,persona,bsm,best-of-n}`, `workbench judge`,
`workbench verify`.

`generate` writes OUT in the input's format (or --to): the input rows with generated or
rewritten content plus a `provenance` field; rows that failed are listed on stderr with their
errors and left out of OUT, and the exit status is 1 if any failed. Jobs checkpoint in the
dataset's workspace, so running the same command again after an interruption resumes it, and
the LLM response cache there means prompts already answered are not sent again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

GENERATORS = ("self-instruct", "evol", "cot", "persona", "bsm", "best-of-n")
TARGETS = ("alpaca", "sharegpt", "openai", "hh", "text", "parquet")
DEFAULT_PERSONAS = "examples/personas.jsonl"


def _model_args(p: argparse.ArgumentParser) -> None:
    from workbench.cli_common import add_dataset_args

    add_dataset_args(p)
    g = p.add_argument_group("model")
    g.add_argument("--model", default="local/smollm2",
                   help="litellm model string (default: the embedded local/smollm2; e.g. openai/gpt-4o-mini)")
    g.add_argument("--api-base", metavar="URL", help="base URL of an OpenAI-compatible server (model openai/NAME)")
    g.add_argument("--temperature", type=float, default=0.7)
    g.add_argument("--max-tokens", type=int, default=512)
    g.add_argument("--concurrency", type=int, default=4, help="requests in flight at once (default 4)")
    g.add_argument("--timeout", type=float, default=120.0,
                   help="seconds for a whole request (connecting to the last byte) before retrying")
    g.add_argument("--retries", type=int, default=5, help="retries per request on timeouts, 429, 5xx, bad bodies")
    g.add_argument("--no-cache", action="store_true",
                   help="ask the model even for prompts answered before (new replies are still cached)")
    g.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    g.add_argument("--prompt", action="append", default=[], metavar="NAME=FILE",
                   help="replace a built-in prompt with a Jinja template file (rendered sandboxed)")


def register(sub) -> None:
    gen = sub.add_parser("generate", help="generate or rewrite rows with an LLM (self-instruct, evol, cot, ...)")
    kinds = gen.add_subparsers(dest="generator", metavar="OPERATION", required=True)
    helps = {
        "self-instruct": "new tasks from a seed task file (INPUT), kept when novel (ROUGE-L < 0.7)",
        "evol": "Evol-Instruct: harder (in-depth) or new (in-breadth) instructions, N rounds",
        "cot": "rewrite answers to reason step by step",
        "persona": "re-ask each prompt as a persona from --personas, and answer it",
        "bsm": "branch-solve-merge: plan parts of an answer, solve each, merge",
        "best-of-n": "N answers per prompt, scored by a verifier or the judge; best/worst as a preference pair",
    }
    for name in GENERATORS:
        p = kinds.add_parser(name, help=helps[name], description=helps[name])
        _model_args(p)
        p.add_argument("-o", "--out", required=True, metavar="OUT", help="output file")
        p.add_argument("--to", choices=TARGETS, help="output format (default: the input's format)")
        p.add_argument("--seed", type=int, default=0, help="seed for sampling demonstrations, mutations, personas")
        if name == "self-instruct":
            p.add_argument("--n", type=int, default=10, help="new tasks to keep (default 10)")
            p.add_argument("--k", type=int, default=3, help="seed tasks shown per request (default 3)")
            p.add_argument("--threshold", type=float, default=0.7, help="ROUGE-L novelty threshold (default 0.7)")
        if name == "evol":
            from workbench.ops.generation.evol import MUTATIONS

            p.add_argument("--rounds", type=int, default=1, help="evolution rounds (default 1)")
            p.add_argument("--mutations", default=",".join(MUTATIONS),
                           help=f"comma-separated subset of {','.join(MUTATIONS)}")
        if name == "persona":
            p.add_argument("--personas", default=DEFAULT_PERSONAS, metavar="FILE",
                           help=f"persona file, JSON Lines or one per line (default {DEFAULT_PERSONAS})")
        if name == "bsm":
            p.add_argument("--branches", type=int, default=3, help="branches per row (default 3)")
        if name == "best-of-n":
            p.add_argument("--n", type=int, default=4, help="candidates per prompt (default 4)")
            p.add_argument("--scorer", choices=("auto", "judge", "verifier"), default="auto",
                           help="auto: the verifier when the row has tests or a reference, else the judge")
        p.set_defaults(func=cmd_generate)

    p = sub.add_parser("judge", help="rate answers 1-5 per aspect with an LLM judge; scores become signals")
    _model_args(p)
    p.add_argument("--aspects", default="helpfulness,honesty,instruction_following,truthfulness",
                   help="comma-separated aspects (default: the four UltraFeedback ones)")
    p.set_defaults(func=cmd_judge)

    p = sub.add_parser("verify", help="run code answers against their tests / check math answers; signals")
    from workbench.cli_common import add_dataset_args

    add_dataset_args(p)
    p.add_argument("--limit", type=int, metavar="N", help="only the first N rows")
    p.set_defaults(func=cmd_verify)


def _overrides(args) -> dict | None:
    """The --prompt templates, read before anything is opened; None after saying what is wrong."""
    from workbench.llm.prompts import PromptError, load_overrides

    try:
        return load_overrides(args.prompt)
    except (PromptError, OSError) as e:
        print(f"workbench: {e}", file=sys.stderr)
        return None


def _open(args):
    from workbench.cli_common import load_dataset_and_workspace

    ds, ws = load_dataset_and_workspace(args)
    records = ds.records(0, args.limit) if args.limit else ds.records()
    return ds, ws, records


def _client(args, ws):
    from workbench.llm.client import LLMClient

    return LLMClient(args.model, args.api_base, temperature=args.temperature, max_tokens=args.max_tokens,
                     concurrency=args.concurrency, cache=ws, refresh=args.no_cache, timeout=args.timeout,
                     retries=args.retries)


def _progress():
    """A one-line progress display on a terminal; silent when stderr is a file or pipe."""
    if not sys.stderr.isatty():
        return None

    def show(ev) -> None:
        eta = f" eta {ev.eta:.0f}s" if ev.eta else ""
        sys.stderr.write(f"\r{ev.name}: {ev.done}/{ev.total} ok {ev.ok + ev.skipped} failed {ev.failed} "
                         f"{ev.rate:.1f} rows/s{eta}   ")
        if ev.status != "running":
            sys.stderr.write("\n")
        sys.stderr.flush()
    return show


def _target(args, ds) -> str:
    if args.to:
        return args.to
    if Path(args.out).suffix == ".parquet":
        return "parquet"
    fmt = next(iter(ds.formats.values()), None)
    # trl rows are written by the openai target; plain text cannot hold a conversation
    return fmt if fmt in TARGETS and fmt != "text" else "openai"


def _report(result, usage: dict) -> None:
    for rid, err in result.errors.items():
        print(f"failed {rid}: {err.splitlines()[0]}", file=sys.stderr)
    for rid, why in result.dropped.items():
        print(f"dropped {rid}: {why}", file=sys.stderr)
    if usage:
        print(f"llm: {usage['calls']} calls ({usage['cached']} cached, {usage['retries']} retries), "
              f"{usage['prompt_tokens']} prompt + {usage['completion_tokens']} completion tokens, "
              f"cost ${usage['cost']:.4f}", file=sys.stderr)


def cmd_generate(args) -> int:
    from workbench.data.writers import write_records
    from workbench.ops.generation import best_of_n, bsm, cot, evol, persona, self_instruct
    from workbench.ops.generation.common import record_usage

    overrides = _overrides(args)
    if overrides is None:
        return 2
    ds, ws, records = _open(args)
    try:
        client = _client(args, ws)
        kw = dict(concurrency=args.concurrency, on_event=_progress(), overrides=overrides)
        g = args.generator
        if g == "self-instruct":
            res = self_instruct.self_instruct(records, client, ws, n=args.n, k=args.k, threshold=args.threshold,
                                              seed=args.seed, **kw)
        elif g == "evol":
            res = evol.evolve(records, client, ws, rounds=args.rounds, seed=args.seed,
                              mutations=[m.strip() for m in args.mutations.split(",") if m.strip()], **kw)
        elif g == "cot":
            res = cot.cot(records, client, ws, **kw)
        elif g == "persona":
            from workbench.data.errors import DataError
            from workbench.paths import example_file

            try:
                personas = persona.load_personas(example_file(args.personas))
            except (DataError, OSError) as e:
                print(f"workbench: {e}", file=sys.stderr)
                return 2
            res = persona.persona_generate(records, personas, client, ws, seed=args.seed, **kw)
        elif g == "bsm":
            res = bsm.branch_solve_merge(records, client, ws, k=args.branches, **kw)
        else:
            res = best_of_n.best_of_n(records, client, ws, n=args.n, temperature=args.temperature,
                                      scorer=args.scorer, **kw)
        record_usage(ws, res)
        to = _target(args, ds)
        report = write_records(res.rows, to, args.out)
        _report(res, res.usage)
        for lost in report.get("lost", []):
            print(f"warning: {lost['row']}: {to} cannot hold {lost['what']}", file=sys.stderr)
        print(f"{g}: wrote {report['rows']} rows to {args.out} ({to}); {len(res.errors)} failed; job {res.job_id}",
              file=sys.stderr)
        return 1 if res.errors or res.status != "done" else 0
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 2
    finally:
        ws.close()


def cmd_judge(args) -> int:
    from workbench.ops.generation.common import record_usage
    from workbench.ops.generation.judge import judge

    overrides = _overrides(args)
    if overrides is None:
        return 2
    ds, ws, records = _open(args)
    try:
        client = _client(args, ws)
        aspects = [a.strip() for a in args.aspects.split(",") if a.strip()]
        res = judge(records, client, ws, aspects=aspects, concurrency=args.concurrency,
                    on_event=_progress(), overrides=overrides)
        record_usage(ws, res)
        _report(res, res.usage)
        scores = {a: ws.signal_values(f"judge.{a}", op="judge") for a in aspects}
        print(f"judged {len(res.rows)} of {len(records)} rows with {args.model} (job {res.job_id}); "
              f"{len(res.errors)} failed")
        rated = {r["id"] for r in res.rows}
        for a in aspects:
            vals = [v for rid, v in scores[a].items() if rid in rated]
            if vals:
                print(f"  judge.{a:<24} mean {sum(vals) / len(vals):.2f}  min {min(vals):g}  max {max(vals):g}")
        return 1 if res.errors or res.status != "done" else 0
    except ValueError as e:
        print(f"workbench: {e}", file=sys.stderr)
        return 2
    finally:
        ws.close()


def cmd_verify(args) -> int:
    from workbench.ops.generation.verify import verify

    ds, ws, records = _open(args)
    try:
        res = verify(records, ws, on_event=_progress())
        _report(res, {})
        passed = ws.signal_values("verify.passed", op="verify")
        n_pass = sum(1 for r in res.rows if passed.get(r["id"]))
        print(f"verified {len(res.rows)} of {len(records)} rows: {n_pass} passed, "
              f"{len(res.rows) - n_pass} did not; {len(res.errors)} could not be checked (job {res.job_id})")
        return 1 if res.errors else 0
    finally:
        ws.close()
