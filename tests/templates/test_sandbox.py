"""The sandbox: transformers' helpers, escapes refused, endless loops stopped by the time limit."""

from __future__ import annotations

import threading

import pytest

from template_cases import cases
from workbench.templates.render import render_conversation, render_record

MSGS = [{"role": "user", "content": "a <b> & 'c'"}, {"role": "assistant", "content": "ok"}]


def jinja(tmp_path, text: str) -> str:
    path = tmp_path / "t.jinja"
    path.write_text(text)
    from workbench.templates import registry

    registry._load.cache_clear()
    return f"jinja:{path}"


def test_transformers_helpers(tmp_path):
    spec = jinja(tmp_path, "{{ messages[0] | tojson }}|{{ {'b': 1, 'a': [1, 2]} | tojson(indent=2, sort_keys=True) }}|"
                           "{{ strftime_now('%Y') | length }}|{% set ns = namespace(n=0) %}{% for m in messages %}"
                           "{% if loop.index0 == 1 %}{% break %}{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.n }}|"
                           "{{ dict(x=1) | tojson }}")
    r = render_conversation(MSGS, spec)
    assert r.error is None
    first, second, year, n, d = r.text.split("|")
    assert first == '{"role": "user", "content": "a <b> & \'c\'"}'  # no HTML escaping, unlike Jinja's own tojson
    assert second == '{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}'
    assert (year, n, d) == ("4", "1", '{"x": 1}')


def test_trim_and_lstrip_blocks(tmp_path):
    spec = jinja(tmp_path, "{% for m in messages %}\n    {% if m.role == 'user' %}\nU:{{ m.content }}\n    {% endif %}\n{% endfor %}")
    assert render_conversation(MSGS, spec).text == "U:a <b> & 'c'\n"


def test_raise_exception_is_a_rejection_with_the_templates_words(tmp_path):
    spec = jinja(tmp_path, "{% if messages[0].role != 'system' %}{{ raise_exception('A system prompt is required') }}{% endif %}")
    r = render_conversation(MSGS, spec)
    assert r.error_kind == "rejected" and r.error.endswith("A system prompt is required")


@pytest.mark.parametrize("escape", [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    "{{ messages.__class__ }}",
    "{% set ns = namespace() %}{% set ns.__class__ = 1 %}",
    "{{ messages.append(1) }}",  # immutable sandbox: the caller's data cannot be changed
])
def test_escapes_fail_with_a_clear_error(tmp_path, escape):
    r = render_conversation(MSGS, jinja(tmp_path, escape))
    assert r.error is not None, r.text
    assert r.error_kind in ("unsafe", "error")
    assert "sandbox" in r.error or "unsafe" in r.error or "undefined" in r.error


def test_huge_values_are_refused(tmp_path):
    r = render_conversation(MSGS, jinja(tmp_path, "{{ 'x' * 1000000000 }}"))
    assert r.error_kind == "unsafe" and "1,000,000,000" in r.error
    assert render_conversation(MSGS, jinja(tmp_path, "{{ 2 ** 100000000 }}")).error_kind == "unsafe"


LOOP = "{% for i in range(100000) %}{% for j in range(100000) %}{% set x = i * j %}{% endfor %}{% endfor %}"


def test_an_endless_loop_is_stopped_by_the_time_limit(tmp_path):
    spec = jinja(tmp_path, LOOP)
    r = render_conversation(MSGS, spec, time_limit=0.3)
    assert r.error_kind == "timeout" and "did not finish within 0.3 s" in r.error
    # the thread is healthy afterwards and no stray exception lands later
    ok = render_record(cases()["single"], "chatml")
    assert ok.error is None and ok.text.startswith("<|im_start|>user")


def test_time_limits_in_worker_threads_are_independent(tmp_path):
    spec = jinja(tmp_path, LOOP)
    results = {}

    def slow():
        results["slow"] = render_conversation(MSGS, spec, time_limit=0.5)

    def fast():
        results["fast"] = [render_record(cases()["system_multi"], "llama-3").error for _ in range(200)]

    threads = [threading.Thread(target=slow), threading.Thread(target=fast)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["slow"].error_kind == "timeout"
    assert results["fast"] == [None] * 200


def test_syntax_error_names_the_line(tmp_path):
    r = render_conversation(MSGS, jinja(tmp_path, "ok\n{% for m in messages %}\n{{ m.content }"))
    assert r.error_kind == "syntax" and "line" in r.error


def test_documents_reach_the_template(tmp_path):
    spec = jinja(tmp_path, "{% for d in documents %}[{{ loop.index }}] {{ d.title }}: {{ d.text }}\n{% endfor %}"
                           "{{ messages[0].content }}")
    r = render_conversation(MSGS[:1], spec, documents=[{"title": "Doc", "text": "Body"}])
    assert r.text == "[1] Doc: Body\na <b> & 'c'"


@pytest.mark.parametrize("hog", [
    "{{ '%01500000000d' % 1 }}",  # 1.5 GB in one C call: no guard in Jinja sees it
    "{{ 'x' | center(1500000000) }}",
    "{{ ('a' * 1000) | replace('', 'x' * 9999999) }}",
])
def test_one_c_level_call_cannot_take_the_memory(tmp_path, hog):
    r = render_conversation(MSGS, jinja(tmp_path, hog))
    assert r.error_kind == "error" and "out of memory" in r.error
    ok = render_record(cases()["single"], "chatml")  # the next render is served as usual
    assert ok.error is None and ok.text.startswith("<|im_start|>user")


def test_one_c_level_call_cannot_outlive_the_deadline(tmp_path):
    import time

    spec = jinja(tmp_path, "{{ (10 ** 4096) ** 4096 }}")  # one multiplication loop in C: ~45 s
    t0 = time.monotonic()
    r = render_conversation(MSGS, spec, time_limit=0.5)
    assert r.error_kind == "timeout" and "0.5 s" in r.error
    assert time.monotonic() - t0 < 20  # the deadline held (generous: the machine may be loaded)
    assert render_record(cases()["single"], "chatml").error is None


@pytest.mark.parametrize("deep", ["(" * 3000 + "1" + ")" * 3000, "[" * 3000 + "]" * 3000, "-" * 5000 + "1"])
def test_deep_nesting_is_a_template_error(tmp_path, deep):
    r = render_conversation(MSGS, jinja(tmp_path, "{{ " + deep + " }}"))
    assert r.error_kind == "syntax" and "nested too deeply" in r.error


@pytest.mark.parametrize("text,words", [
    ("{{ '%01500000000d' % 1 }}", "out of memory"),
    ("{{ 'x' * 1000000000 }}", "1,000,000,000"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", "did not finish"),
    ("{{ ''.__class__.__mro__ }}", "outside the sandbox"),
    ("{{ " + "(" * 3000 + "1" + ")" * 3000 + " }}", "nested too deeply"),
])
def test_prompt_templates_have_the_same_limits(tmp_path, text, words):
    from workbench.llm.prompts import PromptError, load_overrides, render

    path = tmp_path / "cot.j2"
    path.write_text(text)
    with pytest.raises(PromptError, match=words):
        render("cot", load_overrides([f"cot={path}"]), instruction="q", answer="a")


def test_render_many_is_render_sides_and_a_hanging_row_times_out_alone(tmp_path):
    from workbench.templates.render import render_many, render_sides

    spec = jinja(tmp_path, "{% for m in messages %}{% if m.content == 'hang' %}" + LOOP + "{% endif %}"
                           "{{ m.role }}: {{ m.content }}\n{% endfor %}")
    rows = [dict(cases()["single"], id=f"r{i}") for i in range(5)]
    rows[2] = dict(rows[2], messages=[{"role": "user", "content": "hang"}])
    # A limit the ordinary rows meet even on a loaded machine; the hanging row never does.
    got = list(render_many(enumerate(rows), spec, record_of=lambda pair: pair[1], time_limit=5.0, chunk=4))
    assert [i for (i, _), _ in got] == [0, 1, 2, 3, 4]
    assert [sides[0].error_kind for _, sides in got] == [None, None, "timeout", None, None]
    ok = [sides[0] for (i, _), sides in got if i != 2]
    assert [(r.text, r.spans) for r in ok] == [(r.text, r.spans) for i in (0, 1, 3, 4)
                                              for r in render_sides(rows[i], spec)]


def test_rendering_processes_beyond_the_idle_ones_exit():
    from concurrent.futures import ThreadPoolExecutor

    from workbench.templates import sandbox

    barrier = threading.Barrier(8)

    def render(_):
        barrier.wait()  # eight threads render at once: eight processes
        return render_record(cases()["single"], "chatml").error

    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(render, range(8))) == [None] * 8
    idle = list(sandbox._POOL._idle)
    assert len(idle) <= sandbox.IDLE_WORKERS and all(w.proc.poll() is None for w in idle)
