"""LLM generation and enhancement operations, each a resumable job over canonical rows:

self_instruct (new tasks from seeds), evol (Evol-Instruct), cot (chain-of-thought rewrite),
persona (persona-conditioned prompts), bsm (branch-solve-merge), judge (1-5 ratings as
signals), best_of_n (preference pairs by rejection sampling), verify (code tests, math
references). Shared plumbing in `common`; ROUGE-L in `rouge`. Each operation takes an
`LLMClient` and a `Workspace` and returns an `OpResult` (rows, errors, job id, usage).
"""

from __future__ import annotations

# name -> (module, function): what the TUI palette and recipe replay call through `run_operation`.
OPERATIONS = {
    "self-instruct": ("self_instruct", "self_instruct"),
    "evol": ("evol", "evolve"),
    "cot": ("cot", "cot"),
    "persona": ("persona", "persona_generate"),
    "bsm": ("bsm", "branch_solve_merge"),
    "best-of-n": ("best_of_n", "best_of_n"),
    "judge": ("judge", "judge"),
}


def run_operation(name: str, records, ws, *, model: str | None = None, api_base: str | None = None,
                  client_options: dict | None = None, **options):
    """Run operation `name` over `records` with a client for `model`, caching in `ws`.

    `options` go to the operation (on_event, cancel, concurrency, rounds, n, personas, ...);
    returns its OpResult. Imports nothing heavy until called.
    """
    import importlib

    from workbench.llm.client import LLMClient

    if name not in OPERATIONS:
        raise ValueError(f"unknown operation {name!r}; expected one of {', '.join(OPERATIONS)}")
    module, func = OPERATIONS[name]
    fn = getattr(importlib.import_module(f"workbench.ops.generation.{module}"), func)
    client = LLMClient(model, api_base, cache=ws, **(client_options or {}))
    from workbench.ops.generation.common import record_usage

    if name == "persona":
        result = fn(records, options.pop("personas"), client, ws, **options)
    else:
        result = fn(records, client, ws, **options)
    record_usage(ws, result)
    return result
