"""The Jinja sandbox that chat templates run in, compatible with transformers' apply_chat_template.

Same environment as transformers: ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, loop controls, the `{% generation %}` tag, `raise_exception`, `tojson` (no
HTML escaping, with indent/separators/sort_keys), `strftime_now`, a limited `dict` and a
`namespace` that refuses underscore names. On top of that, templates are untrusted code
that may loop forever or build huge strings, so:

- reading an unsafe attribute (`''.__class__`) is an error, where Jinja renders it as empty;
- `*` and `**` are intercepted and refuse results beyond MAX_SIZE;
- every render runs under a deadline: a watchdog thread, polling every POLL seconds, raises an
  exception inside the rendering thread once its deadline has passed (`PyThreadState_SetAsyncExc`),
  which stops any pure-Python loop that Jinja compiled, at the cost of one dict entry per render.
"""

from __future__ import annotations

import ctypes
import heapq
import itertools
import json
import threading
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterator

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_TIME_LIMIT = 2.0  # seconds per record (all its renders together)
MAX_SIZE = 10_000_000  # characters / items a single `*` or `**` may produce
POLL = 0.05  # seconds between the watchdog's looks at the deadlines (its precision)


class TemplateFailure(Exception):
    """A template could not render a conversation; the message says why, for people."""

    def __init__(self, message: str, *, kind: str = "error"):
        super().__init__(message)
        self.kind = kind  # "rejected" (raise_exception), "unsafe", "timeout", "syntax", "error"


class _Deadline(BaseException):
    """Injected into a rendering thread by the watchdog. BaseException, so no `except Exception` eats it."""


# --- the environment -------------------------------------------------------------------

_tracking = threading.local()  # (blocks rendered so far, generation spans) while tracking


class GenerationExtension(Extension):
    """`{% generation %}...{% endgeneration %}`: marks text the model generates (HF's assistant mask)."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> nodes.Node:
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation"), [], [], body).set_lineno(lineno)

    def _generation(self, caller) -> str:
        rv = caller()
        state = getattr(_tracking, "state", None)
        if state is not None:
            blocks, spans = state
            start = sum(map(len, blocks))  # same offsets as transformers: text emitted before this block
            spans.append((start, start + len(rv)))
        return rv


class _Env(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def unsafe_undefined(self, obj, attribute):
        # Jinja (and transformers) would render an empty string here; a template that tries this is
        # hostile or broken, and a person should see which.
        raise SecurityError(f"access to attribute {attribute!r} of a {type(obj).__name__} object is not allowed")

    def call_binop(self, context, operator, left, right):
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_SIZE:
                    raise SecurityError(f"the template tried to build a value of {len(seq) * n:,} items")
        elif operator == "**" and isinstance(right, int) and isinstance(left, int) and abs(right) > 4096:
            raise SecurityError(f"the template tried to compute {left}**{right}")
        return super().call_binop(context, operator, left, right)


def _raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def _tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format):
    return datetime.now().strftime(format)


class _TemplateDict:
    """`dict(...)` for templates without exposing the dict type itself."""

    def __call__(self, *args, **kwargs):
        return dict(*args, **kwargs)

    def fromkeys(self, *args, **kwargs):
        return dict.fromkeys(*args, **kwargs)


class _Namespace(jinja2.utils.Namespace):
    """Jinja's namespace, refusing underscore names (a path to CPython internals)."""

    def __init__(*args, **kwargs):  # noqa: N805 - Jinja's own signature trick, so `namespace(self=...)` works
        self, args = args[0], args[1:]
        attrs = dict(*args, **kwargs)
        for name in attrs:
            _Namespace._check(name)
        jinja2.utils.Namespace.__init__(self, attrs)

    def __setitem__(self, name, value):
        _Namespace._check(name)
        jinja2.utils.Namespace.__setitem__(self, name, value)

    @staticmethod
    def _check(name):
        if isinstance(name, str) and name.startswith("_"):
            raise SecurityError(f"a template cannot store the underscore name {name!r} on a namespace")


def _make_env() -> _Env:
    env = _Env(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationExtension, loopcontrols])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = _Namespace
    return env


ENV = _make_env()
_GLOBALS = dict(ENV.globals)


@lru_cache(maxsize=64)
def compile_template(source: str) -> jinja2.Template:
    """Compile once per distinct source; a syntax error becomes a TemplateFailure naming the line."""
    try:
        return ENV.from_string(source)
    except TemplateSyntaxError as e:
        raise TemplateFailure(f"template syntax error on line {e.lineno}: {e.message}", kind="syntax") from None


def render_messages(
    template: jinja2.Template,
    messages: list[dict],
    *,
    track_generation: bool = False,
    **context: Any,
) -> tuple[str, list[tuple[int, int]]]:
    """Render one conversation. Returns the text and the `{% generation %}` spans (if tracked).

    Template errors become TemplateFailure; the caller sets the deadline (see `deadline`).
    """
    # What Template.render does, minus merging the globals ChainMap into every context (the
    # costliest step for short chats) and minus traceback rewriting (we report messages only).
    variables = {**_GLOBALS, **context, "messages": messages}
    try:
        ctx = template.new_context(variables, shared=True)
        if not track_generation:
            return "".join(template.root_render_func(ctx)), []
        blocks: list[str] = []
        spans: list[tuple[int, int]] = []
        _tracking.state = (blocks, spans)
        try:
            for block in template.root_render_func(ctx):
                blocks.append(block)
        finally:
            _tracking.state = None
        return "".join(blocks), spans
    except SecurityError as e:
        raise TemplateFailure(f"the template tried to reach outside the sandbox: {e}", kind="unsafe") from None
    except TemplateError as e:
        # raise_exception() and undefined values both land here; the template's own words are the best message
        kind = "rejected" if type(e) is TemplateError else "error"
        raise TemplateFailure(f"the template rejected this conversation: {e.message or e}"
                              if kind == "rejected" else f"template error: {e}", kind=kind) from None
    except RecursionError:
        raise TemplateFailure("the template recursed too deeply", kind="error") from None
    except MemoryError:
        raise TemplateFailure("the template ran out of memory", kind="error") from None
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError) as e:
        raise TemplateFailure(f"template error: {type(e).__name__}: {e}", kind="error") from None


# --- the deadline ----------------------------------------------------------------------


class _Watchdog:
    """One daemon thread that fires `_Deadline` into threads whose render outlived its deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._armed: dict[int, tuple[int, float]] = {}  # token -> (thread id, deadline)
        self._heap: list[tuple[float, int]] = []
        self._fired: set[int] = set()
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> int:
        import time

        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="template-watchdog", daemon=True)
                self._thread.start()
            token = next(self._ids)
            when = time.monotonic() + seconds
            self._armed[token] = (threading.get_ident(), when)
            heapq.heappush(self._heap, (when, token))
            # No notify: waking the watchdog on every render costs a thread switch; it polls instead.
            return token

    def disarm(self, token: int) -> None:
        """Stop watching; clears an exception fired but not yet delivered (the body just finished)."""
        with self._cond:
            tid, _ = self._armed.pop(token)
            if token in self._fired:
                self._fired.discard(token)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), None)

    def _run(self) -> None:
        import time

        with self._cond:
            while True:
                while self._heap and self._heap[0][1] not in self._armed:
                    heapq.heappop(self._heap)  # disarmed in time
                if not self._heap:
                    self._cond.wait(POLL)
                    continue
                when, token = self._heap[0]
                now = time.monotonic()
                if now < when:
                    self._cond.wait(min(when - now, POLL))
                    continue
                heapq.heappop(self._heap)
                tid, _ = self._armed[token]
                self._fired.add(token)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(tid), ctypes.py_object(_Deadline))


_WATCHDOG = _Watchdog()


@contextmanager
def deadline(seconds: float | None = DEFAULT_TIME_LIMIT) -> Iterator[None]:
    """Run the body under a time limit; past it, TemplateFailure(kind="timeout") is raised."""
    if not seconds:
        yield
        return
    message = f"the template did not finish within {seconds:g} s (an endless or huge loop?)"
    try:
        token = _WATCHDOG.arm(seconds)
        try:
            yield
        except _Deadline:
            raise TemplateFailure(message, kind="timeout") from None
        finally:
            _WATCHDOG.disarm(token)
    except _Deadline:  # delivered while disarming
        raise TemplateFailure(message, kind="timeout") from None
