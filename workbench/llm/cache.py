"""Cache keys for LLM responses: a hash of (model, messages, parameters).

The key covers everything that changes the answer and nothing secret (never the API key).
The base URL is part of it: behind an OpenAI-compatible server the model string is only a
name that server interprets, so two servers with the same name are two models. Parameters
are normalised (sorted, None dropped) so that `temperature=0.7` spelled twice hashes once.
"""

from __future__ import annotations

import hashlib
import json

# Bump when the shape of cached values changes.
CACHE_VERSION = 1


def cache_key(model: str, messages: list[dict], params: dict, api_base: str | None = None) -> str:
    clean = {k: v for k, v in sorted(params.items()) if v is not None}
    turns = [{k: m[k] for k in sorted(m) if m[k] is not None} for m in messages]
    where = [api_base.rstrip("/")] if api_base else []  # keys without a base stay as they were
    raw = json.dumps([CACHE_VERSION, model, turns, clean, *where], sort_keys=True, ensure_ascii=False, default=str)
    return "llm:" + hashlib.sha256(raw.encode()).hexdigest()
