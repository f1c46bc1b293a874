"""A long conversation is work, not an endless loop: the template time limit holds per render
(each prefix render of the mask computation renews it), so 2000 turns render in full, while a
template that loops inside one render is still stopped at the limit."""

from __future__ import annotations

from workbench.data.record import make_record
from workbench.templates.render import render_conversation, render_record


def test_a_2000_turn_conversation_renders_within_the_default_limit():
    turns = []
    for i in range(1000):
        turns += [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": f"answer {i}"}]
    r = render_record(make_record(id="long", messages=turns), "chatml")  # ~2000 renders, seconds in all
    assert r.error is None, r.error
    assert r.text.count("<|im_start|>") == 2000 and r.text.endswith("answer 999<|im_end|>\n")
    assert sum(1 for _, _, trained in r.spans if trained) == 1000  # every answer masked for training


def test_a_render_that_hangs_after_others_finished_is_still_stopped(tmp_path):
    # Renders of the first prefixes finish (each renews the limit); the one with 4 messages loops.
    loop = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    path = tmp_path / "t.jinja"
    path.write_text("{% if messages|length > 3 %}" + loop + "{% endif %}"
                    "{% for m in messages %}{{ m.role }}: {{ m.content }}\n{% endfor %}", encoding="utf-8")
    turns = [{"role": "user" if i % 2 == 0 else "assistant", "content": f"t{i}"} for i in range(6)]
    r = render_conversation(turns, f"jinja:{path}", time_limit=0.5)
    assert r.error_kind == "timeout" and "0.5 s" in r.error
