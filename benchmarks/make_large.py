"""Generate a realistic N-row chat dataset (OpenAI messages JSONL) for benchmarks.

Mixed shapes in proportions seen in public SFT sets: mostly single-turn, a third multi-turn,
some with a system prompt, tool calls, or a <think> reasoning block; lengths from a short
fact to a long explanation. Deterministic for a given seed.

    python benchmarks/make_large.py -o /tmp/large.jsonl -n 1000000
"""

from __future__ import annotations

import argparse
import json
import random
import sys

WORDS = """the a of to and in is it you that for on with as are this be at have or from by not but
what all were when we there can an your which their said if do will each about how up out them
then she many some so these would other into has more her two like him see time could no make
than first been its who now people my made over did down only way find use may water long little
very after words called just where most know get through back much before go good new write our
used me man too any day same right look think also around another came come work three word must
because does part even place well such here take why things help put years different away again
off went old number great tell men say small every found still between name should home big give
air line set own under read last never us left end along while might next sound below saw something
thought both few those always looked show large often together asked house don't world going want
school important until form food keep children feet land side without boy once animals life enough
took sometimes four head above kind began almost live page got earth need far hand high year mother
light parts country father let night following picture being study second eyes soon times story
boys since white days ever paper hard near sentence better best across during today others however
sure means knew it's try told young miles sun ways thing whole hear example heard several change
answer room sea against top turned learn point city play toward five using himself usually money
function value list string error request server data model memory cache query index table network
file system user process thread python rust code test build deploy version config design result""".split()

TOPICS = ["Python", "SQL", "sourdough baking", "personal finance", "the French Revolution", "climate",
          "linear algebra", "job interviews", "gardening", "Kubernetes", "marathon training", "poetry",
          "photosynthesis", "Rust lifetimes", "email etiquette", "probability", "travel in Japan",
          "home repair", "machine learning", "music theory", "nutrition", "chess openings"]
ASKS = ["Can you explain {t} in simple terms?", "What are common mistakes with {t}?",
        "Give me three tips about {t}.", "How do I get started with {t}?", "Write a short note about {t}.",
        "Why does {t} matter?", "Compare two approaches to {t}.", "Summarize the key ideas of {t}."]
SYSTEMS = ["You are a helpful assistant.", "You are a concise technical expert. Answer briefly.",
           "You are a friendly tutor who explains step by step.", "Answer as a careful, factual assistant."]
TOOLS = [{"type": "function", "function": {"name": "search", "description": "Search the web",
                                           "parameters": {"type": "object", "properties": {"q": {"type": "string"}}}}}]


def sentence(rng: random.Random, lo: int, hi: int) -> str:
    words = rng.choices(WORDS, k=rng.randint(lo, hi))
    return " ".join(words).capitalize() + "."


_POOL: list[str] = []  # sentences drawn once: paragraphs sample from them, much faster


def paragraph(rng: random.Random, sentences: int) -> str:
    if not _POOL:
        pool_rng = random.Random(12345)
        _POOL.extend(sentence(pool_rng, 6, 18) for _ in range(50_000))
    return " ".join(rng.choices(_POOL, k=sentences))


def answer(rng: random.Random) -> str:
    n = min(int(rng.lognormvariate(1.3, 0.7)) + 1, 30)  # long tail of long answers
    return paragraph(rng, n)


def row(rng: random.Random, i: int) -> dict:
    topic = rng.choice(TOPICS)
    msgs: list[dict] = []
    r = rng.random()
    if rng.random() < 0.08:
        msgs.append({"role": "system", "content": rng.choice(SYSTEMS)})
    turns = 1 if r < 0.62 else rng.randint(2, 4)
    out: dict = {}
    for k in range(turns):
        msgs.append({"role": "user", "content": rng.choice(ASKS).format(t=topic) + (" " + sentence(rng, 4, 12) if k else "")})
        if k == 0 and 0.62 <= r < 0.67:  # a tool call, then its result
            msgs.append({"role": "assistant", "content": None, "tool_calls": [
                {"id": f"call_{i}", "type": "function", "function": {"name": "search", "arguments": json.dumps({"q": topic})}}]})
            msgs.append({"role": "tool", "tool_call_id": f"call_{i}", "content": paragraph(rng, 2)})
            out["tools"] = TOOLS
        text = answer(rng)
        if 0.67 <= r < 0.74 and k == turns - 1:
            text = f"<think>\n{paragraph(rng, 3)}\n</think>\n\n{text}"
        msgs.append({"role": "assistant", "content": text})
    return {"id": f"large-{i:07d}", "messages": msgs, **out, "source": rng.choice(["synthetic", "forum", "docs"])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("-n", "--rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    rng = random.Random(a.seed)
    try:
        f = open(a.output, "w", encoding="utf-8")
    except OSError as e:
        print(f"make_large: cannot write {a.output}: {e.strerror}", file=sys.stderr)
        return 2
    with f:
        for i in range(a.rows):
            f.write(json.dumps(row(rng, i), ensure_ascii=False))
            f.write("\n")
    print(f"wrote {a.rows} rows to {a.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
