"""The errors an LLM call ends with, and what a reply must look like to count as one."""

from __future__ import annotations

# A token is a few characters; 64 is beyond any tokenizer's longest run of ordinary text.
MAX_CHARS_PER_TOKEN = 64
DEFAULT_REPLY_TOKENS = 32_768  # the bound assumed when a call sets no max_tokens


class LLMError(Exception):
    """A call that failed for good (after retries, or at once for non-retryable errors)."""

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class MalformedResponse(LLMError):
    """A body that is not a chat completion (not JSON, no choices, no text): worth asking again."""

    def __init__(self, message: str):
        super().__init__(message, retryable=True)


class ReplyTooLarge(LLMError):
    """A reply far beyond max_tokens: a misbehaving server, not something to retry or keep."""


def max_reply_chars(max_tokens: int | None) -> int:
    """The longest text one choice may hold for `max_tokens` before it is refused."""
    return 1024 + MAX_CHARS_PER_TOKEN * int(max_tokens or DEFAULT_REPLY_TOKENS)


def parse_completion(data, model: str) -> dict:
    """{"text", "texts", "usage", "model"} of an OpenAI chat-completion body (a dict).

    Raises MalformedResponse for a body without usable choices (litellm returns those as a
    success) and ReplyTooLarge for a choice longer than `max_reply_chars` allows (checked by
    the caller, which knows max_tokens).
    """
    if not isinstance(data, dict):
        raise MalformedResponse("malformed response: the body is not a JSON object")
    choices = data.get("choices") or []
    if not isinstance(choices, list):
        raise MalformedResponse("malformed response: 'choices' is not a list")
    texts = []
    for i, c in enumerate(choices):
        content = ((c or {}).get("message") or {}).get("content") if isinstance(c, dict) else None
        if not isinstance(content, str):
            raise MalformedResponse(f"malformed response: choice {c.get('index', i) if isinstance(c, dict) else i} "
                                    "has no text content")
        texts.append(content)
    if not texts:
        raise MalformedResponse("malformed response: no choices")
    u = data.get("usage") if isinstance(data.get("usage"), dict) else {}
    usage = {"prompt_tokens": _int(u.get("prompt_tokens")), "completion_tokens": _int(u.get("completion_tokens"))}
    return {"text": texts[0], "texts": texts, "usage": usage, "model": model}


def check_size(texts: list[str], max_tokens: int | None) -> None:
    limit = max_reply_chars(max_tokens)
    for t in texts:
        if len(t) > limit:
            raise ReplyTooLarge(f"reply of {len(t):,} characters is far beyond max_tokens={max_tokens} "
                                f"(at most {limit:,} expected)")


def _int(v) -> int:
    try:
        return int(v or 0)
    except (TypeError, ValueError):
        return 0
