"""Fixtures of the LLM tests: a workspace file and a client factory for the loopback server."""

from __future__ import annotations

import pytest

from workbench.llm.client import LLMClient


@pytest.fixture
def make_client(ws):
    """A client for a loopback server: fast backoff, cache in `ws`. The timeout is generous: a
    reply slowed by a loaded machine must not count as a retry; tests of hangs pass a short one."""

    def make(server, **kw):
        opts = dict(timeout=30.0, backoff=0.01, max_backoff=0.05, retries=6, concurrency=4, cache=ws)
        opts.update(kw)
        return LLMClient("openai/loopback", api_base=server.api_base, **opts)

    return make
