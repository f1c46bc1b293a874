"""The client against a real OpenAI-compatible server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import threading

import pytest

from workbench.llm.cache import cache_key
from workbench.llm.client import LLMError
from tests.support.loopback import LoopbackServer

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


def test_timeout_bounds_the_whole_request_not_each_read(make_client):
    # the reply arrives one byte every 0.2 s: ~60 s in all, each read well within any timeout
    with LoopbackServer(default_faults=["trickle"] * 3, trickle_interval=0.2) as srv:
        import time

        start = time.monotonic()
        with pytest.raises(LLMError, match="no complete reply within 1 s after 2 attempts") as e:
            make_client(srv, timeout=1.0, retries=1).complete(USER)
        elapsed = time.monotonic() - start
    assert e.value.retryable and srv.total == 2
    assert elapsed < 15  # two 1 s attempts and a short backoff, not two minutes of trickle


def test_a_reply_far_beyond_max_tokens_is_an_error_not_a_row(make_client, ws):
    with LoopbackServer(default_faults=["huge"] * 3, huge_bytes=20 << 20) as srv:
        client = make_client(srv, max_tokens=64)
        with pytest.raises(LLMError, match="far beyond max_tokens") as e:
            client.complete(USER)
        assert not e.value.retryable and srv.total == 1  # asking again would only repeat it
        client.close()
    assert ws.cache_get(cache_key("openai/loopback", USER, {"temperature": 0.7, "max_tokens": 64, "n": 1},
                                  client.api_base)) is None


def ask_at_once(client, n: int) -> None:
    """`n` different prompts, each from a thread of its own (as a job's workers call)."""
    threads = [threading.Thread(target=client.complete, args=([{"role": "user", "content": f"q{i}"}],))
               for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_requests_are_concurrent_up_to_the_bound(make_client):
    # one thread per call, as a job's workers do; a 3 s latency makes every request overlap
    # even when a loaded machine takes a while to open 64 connections
    with LoopbackServer(latency=3.0) as srv:
        client = make_client(srv, concurrency=64, cache=None)
        ask_at_once(client, 96)
    # 64 kept-alive connections (in 4 pools of 16), the last 32 requests reusing them
    assert srv.total == 96 and srv.peak == 64 and srv.connections == 64


def test_a_reply_that_fails_the_callers_check_is_not_cached(make_client):
    def needs_rating(text: str) -> None:
        if "Rating" not in text:
            raise ValueError("no rating")

    replies = iter(["no idea", "Rating: 4"])
    with LoopbackServer(lambda m: next(replies)) as srv:
        client = make_client(srv)
        with pytest.raises(ValueError, match="no rating"):
            client.complete(USER, validate=needs_rating)
        assert client.complete(USER, validate=needs_rating)["text"] == "Rating: 4"  # asked again
        assert client.complete(USER, validate=needs_rating)["cached"] and srv.total == 2


def test_refresh_asks_again_and_stores_the_new_reply(make_client):
    replies = iter(["first", "second"])
    with LoopbackServer(lambda m: next(replies)) as srv:
        assert make_client(srv).complete(USER)["text"] == "first"
        out = make_client(srv, refresh=True).complete(USER)
        assert out["text"] == "second" and not out["cached"] and srv.total == 2
        assert make_client(srv).complete(USER)["text"] == "second"


def test_cached_replies_written_behind_are_on_disk_once_the_workspace_closes(tmp_path):
    from workbench.llm.client import LLMClient
    from workbench.store.workspace import Workspace

    ws = Workspace.open(tmp_path / "w.sqlite")
    with LoopbackServer() as srv:
        client = LLMClient("openai/loopback", api_base=srv.api_base, cache=ws, concurrency=8)
        ask_at_once(client, 40)
        ws.close()  # no client.close(): the workspace flushes what is queued
        with Workspace.open(tmp_path / "w.sqlite") as again:
            later = LLMClient("openai/loopback", api_base=srv.api_base, cache=again)
            assert all(later.complete([{"role": "user", "content": f"q{i}"}])["cached"] for i in range(40))
        assert srv.total == 40


def test_credentials_in_the_base_url_are_used_but_never_kept_or_shown(ws):
    from workbench.llm.client import LLMClient

    with LoopbackServer(default_faults=["ok", "400"]) as srv:
        url = f"http://alice:pa55word-x@127.0.0.1:{srv.port}/v1?key=k3y-s3cret&api-version=2024-06-01"
        client = LLMClient("openai/loopback", api_base=url, cache=ws, retries=0)
        assert client.complete(USER)["text"] == "Answer: hello"
        with pytest.raises(LLMError) as e:
            client.complete([{"role": "user", "content": "hello"}], temperature=0.1)
        client.close()
        path, auth = srv.targets[0]
    # the server got both (basic auth from the user-info, the key in the query)
    assert "key=k3y-s3cret" in path and auth and auth.startswith("Basic ")
    shown = [str(e.value), repr(client.describe()), client.api_base, "\n".join(ws._db.iterdump())]
    for text in shown:
        assert "pa55word" not in text and "k3y-s3cret" not in text and "alice" not in text
    assert client.api_base == f"http://***@127.0.0.1:{srv.port}/v1?key=***&api-version=2024-06-01"


def test_unreachable_server_error_names_no_credentials():
    from workbench.llm.client import LLMClient

    client = LLMClient("openai/x", api_base="http://bob:hunter2secret@127.0.0.1:9/v1?token=t0ken-value",
                       retries=0, timeout=5)
    with pytest.raises(LLMError) as e:
        client.complete(USER)
    assert "hunter2secret" not in str(e.value) and "t0ken-value" not in str(e.value) and "bob" not in str(e.value)


def test_other_providers_go_through_litellm_with_the_same_retries(monkeypatch, ws):
    from workbench.llm.client import LLMClient

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    with LoopbackServer(default_faults=["429"], retry_after=0.2) as srv:
        # no --api-base: litellm's own OpenAI route, pointed at the loopback server by its environment
        monkeypatch.setenv("OPENAI_BASE_URL", srv.api_base)
        monkeypatch.setenv("OPENAI_API_BASE", srv.api_base)
        client = LLMClient("openai/loopback", cache=ws, backoff=0.01, timeout=60)
        assert client.route == "litellm"
        out = client.complete(USER)
    assert out["text"] == "Answer: hello" and srv.total == 2 and client.usage["retries"] == 1
    assert srv.targets[0][1] == "Bearer sk-test-not-a-key"


def test_hosted_vllm_models_are_spoken_to_directly(monkeypatch):
    from workbench.llm.client import LLMClient

    with LoopbackServer() as srv:
        monkeypatch.setenv("HOSTED_VLLM_API_BASE", srv.api_base)
        client = LLMClient("hosted_vllm/Qwen/Qwen3-8B", retries=0, max_tokens=32)
        assert client.route == "http"
        assert client.complete(USER, seed=7)["text"] == "Answer: hello"
    sent = srv.requests[0]
    assert sent["model"] == "Qwen/Qwen3-8B" and sent["max_tokens"] == 32 and sent["seed"] == 7
    assert sent["messages"] == USER


def test_openai_compatible_servers_never_import_litellm():
    import subprocess
    import sys

    with LoopbackServer() as srv:
        code = ("import sys; from workbench.llm.client import LLMClient;"
                f"out = LLMClient('openai/x', api_base='{srv.api_base}').complete([{{'role': 'user', 'content': 'hi'}}]);"
                "assert out['text'] == 'Answer: hi', out; assert 'litellm' not in sys.modules")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert srv.total == 1
