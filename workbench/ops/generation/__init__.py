"""LLM generation and enhancement operations, each a resumable job over canonical rows:

self_instruct (new tasks from seeds), evol (Evol-Instruct), cot (chain-of-thought rewrite),
persona (persona-conditioned prompts), bsm (branch-solve-merge), judge (1-5 ratings as
signals), best_of_n (preference pairs by rejection sampling), verify (code tests, math
references). Shared plumbing in `common`; ROUGE-L in `rouge`. Each module holds its kernel
function (records, client, workspace for the job's checkpoints -> Result) and the
`Operation` that workbench.ops.registry lists.
"""
