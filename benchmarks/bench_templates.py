"""Rows/s rendered and masked with the SmolLM2 tokenizer: ours against transformers' apply_chat_template.

Both sides render the same rows through the same ChatML template with {% generation %} blocks
and tokenize with the same SmolLM2 tokenizer; transformers computes its assistant mask from
the generation blocks, ours from prefix rendering. Prints one JSON line: rows/s of each, the
ratio ours/theirs (>1 means we are faster), and the share of rows whose token masks agree.

    .venv/bin/python benchmarks/bench_templates.py [--rows N] [--rounds N]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GENERATION_CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}"
    "{{ '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)


def load_rows(n: int) -> list[dict]:
    from workbench.data.dataset import Dataset

    base = []
    for path in sorted(glob.glob(str(REPO / "sample_data" / "*"))):
        base += [r for r in Dataset.open([path]).records() if r["kind"] != "text"]
    rows = []
    i = 0
    while len(rows) < n:  # vary the text so no cache anywhere helps either side
        r = json.loads(json.dumps(base[i % len(base)]))
        for t in (r["messages"] or []) + (r["chosen"] or []) + (r["rejected"] or []):
            t["content"] = f"{t.get('content') or ''} (#{i})"
        rows.append(r)
        i += 1
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=400)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    from transformers import PreTrainedTokenizerFast

    from workbench.templates.messages import conversations
    from workbench.templates.registry import get_template
    from workbench.templates.render import render_many
    from workbench.templates.tokens import load_tokenizer, tokenize

    smol = load_tokenizer("smollm2")
    hf = PreTrainedTokenizerFast(tokenizer_object=smol.backend, bos_token="<|im_start|>", eos_token="<|im_end|>")
    tpl = get_template("chatml")
    tpl = type(tpl)(**{**tpl.__dict__, "name": "chatml+generation", "source": GENERATION_CHATML})
    rows = load_rows(args.rows)
    convs = [c.messages for r in rows for c in conversations(r)]

    def ours(rows):  # as template lint renders a dataset: a chunk of rows per trip to the rendering process
        return [tokenize(s, smol) for _, sides in render_many(rows, tpl) for s in sides]

    def theirs(convs):
        return [hf.apply_chat_template(m, chat_template=tpl.source, tokenize=True, return_dict=True,
                                       return_assistant_tokens_mask=True, **tpl.context()) for m in convs]

    ours(rows[:20]), theirs(convs[:20])  # warm both (template compilation, lazy imports)
    # The machine is shared and its load comes and goes: alternate the two on small chunks of rows,
    # so both see the same load, and keep each one's best round.
    chunks = [rows[i:i + 20] for i in range(0, len(rows), 20)]
    t_ours = t_theirs = float("inf")
    for _ in range(args.rounds):
        mine, ref, a, b = [], [], 0.0, 0.0
        for chunk in chunks:
            chunk_convs = [c.messages for r in chunk for c in conversations(r)]
            t0 = time.perf_counter()
            mine += ours(chunk)
            t1 = time.perf_counter()
            ref += theirs(chunk_convs)
            t2 = time.perf_counter()
            a, b = a + t1 - t0, b + t2 - t1
        t_ours, t_theirs = min(t_ours, a), min(t_theirs, b)

    # Masks are compared where both mean the same thing: SFT conversations without per-turn train
    # weights (we train only a preference row's continuation and honour `train: 0`; generation
    # blocks mark every assistant turn).
    plain = [c.side == "conversation" and all(t.get("train") is None for t in c.turns)
             for r in rows for c in conversations(r)]
    sft = [(m, r) for m, r, keep in zip(mine, ref, plain) if keep]
    agree = sum(m.ids == list(r["input_ids"]) and m.mask == list(r["assistant_masks"]) for m, r in sft)
    same_ids = sum(m.ids == list(r["input_ids"]) for m, r in zip(mine, ref))
    print(json.dumps({
        "bench": "templates",
        "rows": len(rows),
        "conversations": len(convs),
        "ours_rows_per_s": round(len(rows) / t_ours, 1),
        "transformers_rows_per_s": round(len(rows) / t_theirs, 1),
        "ratio_ours_vs_transformers": round(t_theirs / t_ours, 3),
        "token_ids_agree": round(same_ids / len(convs), 4),
        "sft_masks_agree": round(agree / len(sft), 4),
    }))


if __name__ == "__main__":
    main()
