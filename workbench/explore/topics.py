"""Topic labels for clusters: c-TF-IDF keywords (no model needed), optionally named by an LLM.

c-TF-IDF treats all the text of one cluster as one document: a term scores high in a cluster
when it is frequent there and rare across the other clusters,
    score(t, c) = tf(t, c) / words(c) * log(1 + A / f(t)),
with A the average number of words per cluster and f(t) the term's frequency over all clusters.
"""

from __future__ import annotations

import math
import random
import re
from collections import Counter
from typing import Iterable, Mapping, Sequence

import numpy as np

# A compact English stop list: function words plus chat filler that says nothing about a topic.
STOP_WORDS = frozenset("""
a about above after again against all also am an and any are aren't as at be because been before
being below between both but by can can't cannot could couldn't did didn't do does doesn't doing
don't down during each either else etc even ever every few for from further get gets getting give
given go goes going got had hadn't has hasn't have haven't having he he'd he'll he's her here
here's hers herself him himself his how how's however i i'd i'll i'm i've if in into is isn't it
it's its itself just let let's like make makes many may me might more most much must mustn't my
myself need needs no nor not now of off often on once one only or other others ought our ours
ourselves out over own per please put quite rather really said same say says see seem seems shall
shan't she she'd she'll she's should shouldn't since so some such sure take than that that's the
their theirs them themselves then there there's these they they'd they'll they're they've thing
things this those though through thus to too toward towards under until up upon us use used using
very via want was wasn't way we we'd we'll we're we've well were weren't what what's whatever when
when's where where's whether which while who who's whom whose why why's will with within without
won't would wouldn't yes yet you you'd you'll you're you've your yours yourself yourselves
able already always another anyone anything around ask back best better come could done first
good great help here just know last less look lot new next okay ok right still sure tell thank
thanks two three top within word words write yeah answer question example following provide
""".split())

_TOKEN = re.compile(r"[a-z][a-z0-9+#]*(?:['’-][a-z0-9]+)*")
MAX_DOCS_PER_CLUSTER = 2000  # keyword counting samples big clusters: the top terms settle early


def tokenize(text: str) -> list[str | None]:
    """Lower-cased words; stop words become None so that bigrams never span them."""
    out: list[str | None] = []
    for w in _TOKEN.findall(text.lower()):
        w = w.replace("’", "'")
        out.append(None if w in STOP_WORDS or len(w) < 2 else w)
    return out


def _terms(text: str) -> Iterable[str]:
    toks = tokenize(text)
    for i, w in enumerate(toks):
        if w is None:
            continue
        yield w
        if i + 1 < len(toks) and toks[i + 1] is not None:
            yield f"{w} {toks[i + 1]}"


def ctfidf_keywords(docs: Mapping[int, Sequence[str]], top_n: int = 5, seed: int = 0) -> dict[int, list[tuple[str, float]]]:
    """Top c-TF-IDF terms (unigrams and bigrams) of each cluster: {cluster: [(term, score), ...]}."""
    rng = random.Random(seed)
    counts: dict[int, Counter] = {}
    for c, texts in docs.items():
        if len(texts) > MAX_DOCS_PER_CLUSTER:
            texts = rng.sample(list(texts), MAX_DOCS_PER_CLUSTER)
        cnt: Counter = Counter()
        for t in texts:
            cnt.update(_terms(t))
        counts[c] = cnt
    if not counts:
        return {}
    words = {c: sum(v for t, v in cnt.items() if " " not in t) or 1 for c, cnt in counts.items()}
    avg = sum(words.values()) / len(words)
    freq: Counter = Counter()
    for cnt in counts.values():
        freq.update(cnt)
    out: dict[int, list[tuple[str, float]]] = {}
    for c, cnt in counts.items():
        # A bigram must recur to count as a phrase; single-row clusters keep their words.
        min_bigram = 2 if len(docs[c]) > 1 else 1
        scored = sorted(
            ((t, v / words[c] * math.log(1 + avg / freq[t])) for t, v in cnt.items()
             if " " not in t or v >= min_bigram),
            key=lambda ts: (-ts[1], ts[0]),
        )
        picked: list[tuple[str, float]] = []
        for t, sc in scored:
            parts = set(t.split())
            overlap = [j for j, (p, _) in enumerate(picked) if parts <= set(p.split()) or set(p.split()) <= parts]
            if not overlap:
                if len(picked) < top_n:
                    picked.append((t, sc))
                continue
            # A phrase that accounts for most uses of a picked word says it better ("black hole"
            # for "black"); otherwise the term repeats one already picked and is skipped.
            j = overlap[0]
            if len(overlap) == 1 and " " in t and " " not in picked[j][0] and cnt[t] >= 0.7 * cnt[picked[j][0]]:
                picked[j] = (t, sc)
        out[c] = picked
    return out


def keyword_label(keywords: Sequence[tuple[str, float]], n: int = 3) -> str:
    return ", ".join(t for t, _ in keywords[:n]) or "(no words)"


def representatives(vectors: np.ndarray, members: np.ndarray, k: int = 5) -> list[int]:
    """The k members closest to their cluster's mean direction (row positions)."""
    members = np.asarray(members)
    if len(members) <= k:
        return members.tolist()
    v = vectors[members]
    centre = v.mean(axis=0)
    order = np.argsort(-(v @ centre), kind="stable")[:k]
    return members[order].tolist()


LABEL_PROMPT = (
    "Below are sample rows from one cluster of a dataset, and the cluster's keywords.\n\n"
    "Keywords: {keywords}\n\nSamples:\n{samples}\n\n"
    "Name the topic of this cluster in at most five words. Reply with the name only."
)


def clean_label(text: str, max_words: int = 5) -> str:
    """First line of a model's answer without quotes, 'Topic:' prefixes or trailing dots, <= 5 words."""
    line = next((ln for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^\s*(topic|label|name|cluster)\s*(name)?\s*:\s*", "", line, flags=re.I)
    line = line.strip().strip("\"'`*#").strip().rstrip(".")
    return " ".join(line.split()[:max_words])


def llm_label(client, keywords: Sequence[str], samples: Sequence[str], sample_chars: int = 300) -> str:
    """Ask `client` (a workbench.llm.client.LLMClient) to name one cluster."""
    listed = "\n".join(f"{i + 1}. {' '.join(s.split())[:sample_chars]}" for i, s in enumerate(samples))
    reply = client.complete(
        [{"role": "user", "content": LABEL_PROMPT.format(keywords=", ".join(keywords), samples=listed)}],
        temperature=0.0, max_tokens=24,
    )
    return clean_label(reply["text"])
