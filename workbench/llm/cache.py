"""Cache keys for LLM responses: a hash of (model, messages, parameters).

The key covers everything that changes the answer and nothing that doesn't (no API key, no
base URL — the same model served from another port answers the same). Parameters are
normalised (sorted, None dropped) so that `temperature=0.7` spelled twice hashes once.
"""

from __future__ import annotations

import hashlib
import json

# Bump when the shape of cached values changes.
CACHE_VERSION = 1


def cache_key(model: str, messages: list[dict], params: dict) -> str:
    clean = {k: v for k, v in sorted(params.items()) if v is not None}
    turns = [{k: m[k] for k in sorted(m) if m[k] is not None} for m in messages]
    raw = json.dumps([CACHE_VERSION, model, turns, clean], sort_keys=True, ensure_ascii=False, default=str)
    return "llm:" + hashlib.sha256(raw.encode()).hexdigest()
