"""The Jinja sandbox that chat templates run in, compatible with transformers' apply_chat_template.

Same environment as transformers: ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, loop controls, the `{% generation %}` tag, `raise_exception`, `tojson` (no
HTML escaping, with indent/separators/sort_keys), `strftime_now`, a limited `dict` and a
`namespace` that refuses underscore names. On top of that, templates are untrusted code
that may loop forever or build huge strings, so:

- reading an unsafe attribute (`''.__class__`) is an error, where Jinja renders it as empty;
- `*` and `**` are intercepted and refuse results beyond MAX_SIZE (a clear message, early);
- every render runs in a worker process whose address space is capped (RLIMIT_AS, MEMORY_MB)
  and which is killed when the caller's deadline passes. Guards inside the process cannot be
  complete: one C-level operation (`'%01500000000d' % 1`, `'x'|center(1500000000)`,
  `(10**4096)**4096`) allocates gigabytes or runs for a minute without returning to Python.
  The workers persist (one per thread rendering at the moment, started on first use in about
  0.1 s) and a record's renders make one round trip (`isolated`), so rendering thousands of rows
  stays fast (benchmarks/bench_templates.py).

Chat templates (`ENV`) and the prompt templates of the generation operations (`PROMPT_ENV`,
workbench.llm.prompts) share the sandbox, its guards and its limits.
"""

from __future__ import annotations

import importlib
import json
import os
import pickle
import select
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable, Iterator, TypeVar

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError, TemplateError, TemplateSyntaxError
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

DEFAULT_TIME_LIMIT = 2.0  # seconds per record (all its renders together)
MAX_SIZE = 10_000_000  # characters / items a single `*` or `**` may produce
MEMORY_MB = 1024  # address space of a rendering process
IDLE_WORKERS = 4  # rendering processes kept waiting for work (more threads rendering at once start more)
T = TypeVar("T")


class TemplateFailure(Exception):
    """A template could not render a conversation; the message says why, for people."""

    def __init__(self, message: str, *, kind: str = "error", line: int | None = None):
        super().__init__(message)
        self.kind = kind  # "rejected" (raise_exception), "unsafe", "timeout", "syntax", "error"
        self.line = line  # of a syntax error

    def __reduce__(self):  # crosses the pipe from the rendering process with its kind
        return _failure, (str(self), self.kind, self.line)


def _failure(message: str, kind: str, line: int | None) -> TemplateFailure:
    return TemplateFailure(message, kind=kind, line=line)


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
# Prompt templates: plain Jinja text where an undefined variable is an error.
PROMPT_ENV = _Env(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


class SourceTemplate:
    """A template outside the rendering process: its source, known to compile."""

    def __init__(self, source: str, prompt: bool = False):
        self.source, self.prompt = source, prompt


@lru_cache(maxsize=64)
def _compile(source: str, prompt: bool = False) -> jinja2.Template:
    try:
        return (PROMPT_ENV if prompt else ENV).from_string(source)
    except TemplateSyntaxError as e:
        raise TemplateFailure(f"template syntax error on line {e.lineno}: {e.message}", kind="syntax",
                              line=e.lineno) from None
    except RecursionError:
        raise TemplateFailure("the template is nested too deeply", kind="syntax") from None
    except MemoryError:
        raise TemplateFailure("the template is too large to compile", kind="syntax") from None


def _check(source: str, prompt: bool) -> None:
    _compile(source, prompt)


@lru_cache(maxsize=64)
def compile_template(source: str, prompt: bool = False) -> jinja2.Template | SourceTemplate:
    """Compile once per distinct source (in the rendering process; here, a SourceTemplate once it
    is known to compile). A syntax error, or nesting too deep to parse, is a TemplateFailure."""
    if _IN_WORKER:
        return _compile(source, prompt)
    isolated(_check, source, prompt)
    return SourceTemplate(source, prompt)


def render_text(source: str, **variables: Any) -> str:
    """Render a prompt template (PROMPT_ENV) under the same limits as chat templates."""
    return isolated(_render_text, source, variables)


def _render_text(source: str, variables: dict) -> str:
    template = _compile(source, True)
    try:
        return template.render(**variables)
    except (SecurityError, RecursionError, MemoryError) as e:
        raise _as_failure(e) from None
    except Exception as e:  # noqa: BLE001 - an undefined variable, a filter's error: named as Jinja names it
        raise TemplateFailure(f"{type(e).__name__}: {e}") from None


def render_messages(
    template: jinja2.Template | SourceTemplate,
    messages: list[dict],
    *,
    track_generation: bool = False,
    **context: Any,
) -> tuple[str, list[tuple[int, int]]]:
    """Render one conversation. Returns the text and the `{% generation %}` spans (if tracked).

    Template errors become TemplateFailure; the caller sets the deadline (see `deadline`).
    Outside the rendering process this is one round trip to it; `isolated` runs a whole batch
    of renders in one.
    """
    if isinstance(template, SourceTemplate):
        return isolated(_render_source, template.source, messages, track_generation, context)
    # What Template.render does, minus merging the globals ChainMap into every context (the
    # costliest step for short chats) and minus traceback rewriting (we report messages only).
    variables = {**_GLOBALS, **context, "messages": messages}
    if _IN_WORKER:
        _tick()  # the render before this one finished: this one gets the whole time limit
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
    except (SecurityError, TemplateError, RecursionError, MemoryError, TypeError, ValueError, KeyError, IndexError,
            AttributeError, ZeroDivisionError, OverflowError) as e:
        raise _as_failure(e) from None


def _render_source(source, messages, track_generation, context):
    return render_messages(_compile(source), messages, track_generation=track_generation, **context)


def _as_failure(e: BaseException) -> TemplateFailure:
    """A template's error, in words for people, with the template line it happened on."""
    failure = _worded(e)
    failure.line = failure.line or _template_line(e)
    return failure


def _worded(e: BaseException) -> TemplateFailure:
    if isinstance(e, SecurityError):
        return TemplateFailure(f"the template tried to reach outside the sandbox: {e}", kind="unsafe")
    if isinstance(e, TemplateError):
        # raise_exception() and undefined values both land here; the template's own words are the best message
        if type(e) is TemplateError:
            return TemplateFailure(f"the template rejected this conversation: {e.message or e}", kind="rejected")
        return TemplateFailure(f"template error: {e}", kind="error")
    if isinstance(e, RecursionError):
        return TemplateFailure("the template recursed too deeply", kind="error")
    if isinstance(e, MemoryError):
        return TemplateFailure(f"the template ran out of memory (limit {MEMORY_MB} MB)", kind="error")
    if isinstance(e, Exception):
        return TemplateFailure(f"template error: {type(e).__name__}: {e}", kind="error")
    raise e


def _template_line(e: BaseException) -> int | None:
    """The template line of the innermost frame of compiled template code in `e`'s traceback
    (Jinja's debug info maps the generated Python's lines back to the template's)."""
    line = None
    tb = e.__traceback__
    while tb is not None:
        template = tb.tb_frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


# --- the rendering processes and the deadline ---------------------------------------------

_IN_WORKER = False  # True inside a rendering process
_local = threading.local()  # .until: the deadline (time.monotonic) of the thread's current `deadline` block
_FRAME = 8  # bytes of the length prefix of a message on the pipes
_TICK = bytes(_FRAME)  # a length of 0 (no reply is empty): a render starts, the call goes on
_replies: Any = None  # in a rendering process: the pipe its replies and ticks go to


def _tick() -> None:
    _replies.write(_TICK)
    _replies.flush()


@contextmanager
def deadline(seconds: float | None = DEFAULT_TIME_LIMIT) -> Iterator[None]:
    """Every `isolated` call in the body shares this time limit, renewed each time a render
    starts in it (the watchdog counts work: see _Worker.call); past it, the rendering process
    is killed and TemplateFailure(kind="timeout") is raised. `None` or 0: no limit."""
    outer = getattr(_local, "until", None)
    _local.until = (time.monotonic() + seconds) if seconds else float("inf")
    _local.seconds = seconds
    try:
        yield
    finally:
        _local.until = outer


def isolated(fn: Callable[..., T], *args: Any) -> T:
    """`fn(*args)` in a rendering process (a module-level function; arguments and result are
    pickled), under the current `deadline` (DEFAULT_TIME_LIMIT when none is set) and the memory
    cap. fn's exceptions are raised here; a process that dies (out of memory, crashed) or passes
    the deadline is a TemplateFailure, and the next call gets a fresh process."""
    if _IN_WORKER:
        return fn(*args)
    until = getattr(_local, "until", None)
    seconds = getattr(_local, "seconds", DEFAULT_TIME_LIMIT) if until is not None else DEFAULT_TIME_LIMIT
    if until is None:
        until = time.monotonic() + DEFAULT_TIME_LIMIT
    request = pickle.dumps((fn.__module__, fn.__qualname__, args), protocol=pickle.HIGHEST_PROTOCOL)
    for attempt in (0, 1):
        started = time.monotonic()
        worker = _POOL.take()
        until += time.monotonic() - started  # starting a process (slow on a busy machine) is not the template's time
        try:
            ok, value = worker.call(request, until, seconds)
        except _Timeout:
            worker.kill()
            raise TemplateFailure(f"the template did not finish within {seconds:g} s (an endless or huge loop?)",
                                  kind="timeout") from None
        except _Died as e:
            worker.kill()
            if e.before_start and attempt == 0:
                continue  # the process had died while idle: once more on a fresh one
            raise TemplateFailure(f"the template crashed its rendering process ({e}): out of memory "
                                  f"(limit {MEMORY_MB} MB) or nested too deeply?", kind="error") from None
        except BaseException:
            worker.kill()
            raise
        _POOL.give(worker)
        if ok:
            return value
        raise value
    raise AssertionError("unreachable")


class _Timeout(Exception):
    pass


class _Died(Exception):
    def __init__(self, why: str, before_start: bool = False):
        super().__init__(why)
        self.before_start = before_start


_BOOT = """import sys
sys.path.insert(0, {root!r})
from workbench.templates import sandbox
sandbox._serve()
"""


class _Worker:
    """One rendering process, used by one thread at a time."""

    def __init__(self) -> None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        # No secrets in a process that runs untrusted templates.
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")}
        self.proc = subprocess.Popen([sys.executable, "-c", _BOOT.format(root=root)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, bufsize=0)
        try:  # ready once it has imported what rendering needs
            ready = self._read(1, time.monotonic() + 120) == b"R"
        except (_Timeout, _Died):
            ready = False
        if not ready:
            self.kill()
            raise TemplateFailure("could not start a template rendering process", kind="error")

    def call(self, request: bytes, until: float, step: float | None) -> tuple[bool, Any]:
        """Send a request, return its reply. The watchdog counts work, not calls: each render
        the process starts (a tick) gives it `step` seconds again, so a 2000-turn conversation's
        thousands of prefix renders are no endless loop, while one render that hangs still is."""
        try:
            self.proc.stdin.write(len(request).to_bytes(_FRAME, "little") + request)
        except OSError as e:
            raise _Died(f"cannot send to it: {e}", before_start=True) from None
        while True:
            size = int.from_bytes(self._read(_FRAME, until), "little")
            if size:
                return pickle.loads(self._read(size, until))
            if step:
                until = max(until, time.monotonic() + step)

    def _read(self, n: int, until: float) -> bytes:
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        while got < n:
            left = until - time.monotonic()
            if left <= 0:
                raise _Timeout()
            ready, _, _ = select.select([fd], [], [], None if left == float("inf") else left)
            if not ready:
                raise _Timeout()
            chunk = os.read(fd, min(n - got, 1 << 20))
            if not chunk:
                self.proc.wait()
                raise _Died(f"exit status {self.proc.returncode}")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def kill(self) -> None:
        try:
            self.proc.kill()
        except OSError:
            pass
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass


class _Pool:
    """Idle rendering processes; a thread takes one (or starts one) for each call."""

    def __init__(self) -> None:
        self._idle: list[_Worker] = []
        self._lock = threading.Lock()

    def take(self) -> _Worker:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return _Worker()

    def give(self, worker: _Worker) -> None:
        with self._lock:
            if len(self._idle) < IDLE_WORKERS:
                self._idle.append(worker)
                return
        worker.proc.stdin.close()  # it exits at the end of its input
        worker.proc.wait()
        worker.proc.stdout.close()


_POOL = _Pool()


def _serve() -> None:
    """The rendering process: run requests from stdin until it closes (the parent exited)."""
    import resource

    global _IN_WORKER
    _IN_WORKER = True
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_MB << 20, MEMORY_MB << 20))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    parent = os.getppid()

    def orphaned() -> None:  # a render looping when the parent died: stdin's EOF would come too late
        while True:
            time.sleep(1)
            if os.getppid() != parent:
                os._exit(0)

    threading.Thread(target=orphaned, daemon=True).start()
    global _replies
    inp = sys.stdin.buffer
    out = _replies = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but replies on the pipe
    importlib.import_module("workbench.templates.render")  # what most calls need, before the first deadline
    out.write(b"R")
    out.flush()
    while True:
        head = inp.read(_FRAME)
        if len(head) < _FRAME:
            return
        module, name, args = pickle.loads(inp.read(int.from_bytes(head, "little")))
        try:
            fn = importlib.import_module(module)
            for part in name.split("."):
                fn = getattr(fn, part)
            reply: tuple[bool, Any] = (True, fn(*args))
        except MemoryError:
            reply = (False, _as_failure(MemoryError()))
        except Exception as e:  # noqa: BLE001 - raised again in the caller
            reply = (False, e)
        try:
            data = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as e:  # noqa: BLE001
            data = pickle.dumps((False, RuntimeError(f"unpicklable result: {e}")))
        out.write(len(data).to_bytes(_FRAME, "little") + data)
        out.flush()
