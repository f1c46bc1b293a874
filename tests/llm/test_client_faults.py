"""The client against a real OpenAI-compatible server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import pytest

from workbench.llm.client import LLMError
from workbench.llm.loopback import LoopbackServer

USER = [{"role": "user", "content": "hello"}]


@pytest.mark.parametrize("fault", ["hang", "429", "500", "truncated", "malformed", "no_choices"])
def test_each_fault_is_retried_until_success(fault, make_client):
    # a hang lasts until the server stops; the client gives up on it after its timeout
    with LoopbackServer(default_faults=[fault, fault], retry_after=0.1, hang_seconds=600) as srv:
        client = make_client(srv, timeout=3.0)
        out = client.complete(USER)
        assert out["text"] == "Answer: hello" and not out["cached"]
        assert srv.total == 3  # two faults, then the answer
        assert client.usage["retries"] == 2


def test_retry_after_is_honoured(make_client):
    import time

    times = []

    def reply(messages):
        times.append(time.monotonic())
        return "ok"

    with LoopbackServer(reply, default_faults=["429"], retry_after=1.5) as srv:
        start = time.monotonic()
        make_client(srv).complete(USER)
    # the server asked for 1.5 s: the client never came back sooner (backoff alone is <= 0.05 s)
    assert times[0] - start >= 1.5


def test_gives_up_after_retries_with_the_reason(make_client):
    with LoopbackServer(default_faults=["500"] * 10) as srv:
        with pytest.raises(LLMError, match="internal error.*after 3 attempts"):
            make_client(srv, retries=2).complete(USER)
        assert srv.total == 3


def test_client_errors_are_not_retried(make_client):
    with LoopbackServer(default_faults=["400"] * 5) as srv:
        with pytest.raises(LLMError, match="prompt too long") as e:
            make_client(srv).complete(USER)
        assert not e.value.retryable and srv.total == 1


def test_responses_are_cached_by_model_messages_and_params(make_client, ws):
    with LoopbackServer() as srv:
        client = make_client(srv)
        a = client.complete(USER)
        b = client.complete(USER)
        assert b["cached"] and b["text"] == a["text"] and srv.total == 1
        client.complete(USER, temperature=0.1)  # other parameters: another entry
        client.complete([{"role": "user", "content": "other"}])
        assert srv.total == 3
        # a new client over the same workspace (a later process) hits the same entries
        assert make_client(srv).complete(USER)["cached"] and srv.total == 3
    assert client.usage["cached"] == 1 and client.usage["calls"] == 4
    assert client.usage["completion_tokens"] > 0


def test_no_api_key_reaches_the_cache(make_client, ws, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-test-key")
    with LoopbackServer() as srv:
        make_client(srv).complete(USER)
    dump = "\n".join(ws._db.iterdump())
    assert "llm:" in dump and "sk-secret-test-key" not in dump
