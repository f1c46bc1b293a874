"""Prompt templates of the generation operations, rendered in the chat templates' sandbox.

Built-in prompts live here as Jinja text; a user may replace any of them with their own file
(`--prompt NAME=FILE` on the command line). User templates are untrusted text, so they render
like a chat template (workbench.templates.sandbox: Jinja's sandbox, a rendering process with a
memory cap killed at the time limit); built-in ones render in the same sandboxed environment in
this process. Undefined variables are errors.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

PROMPTS: dict[str, str] = {
    # self-instruct: the model continues a numbered list of tasks with one new task
    "self_instruct": (
        "Here are some example tasks that a person could ask an AI assistant to do. "
        "Write one new task that is different from all of them: a single instruction, "
        "optionally followed by its input. Reply with the new task only.\n\n"
        "{% for t in demos %}Task {{ loop.index }}: {{ t }}\n\n{% endfor %}"
        "Task {{ demos | length + 1 }}:"
    ),
    "answer": "{{ instruction }}",
    # Evol-Instruct, in depth: one method per round
    "evol_depth": (
        "You rewrite prompts for an AI assistant to make them harder. Rewrite the prompt below "
        "into a more demanding version that a person would still find sensible and answerable. "
        "Keep any code, table or data it contains. {{ method }} Add no more than 20 words. "
        "Reply with the rewritten prompt only, without any heading or comment.\n\n"
        "Prompt:\n{{ instruction }}"
    ),
    "evol_breadth": (
        "You write new prompts for an AI assistant. Taking the prompt below as inspiration, "
        "write a brand-new prompt on a related but less common topic, of similar length and "
        "difficulty. Reply with the new prompt only, without any heading or comment.\n\n"
        "Prompt:\n{{ instruction }}"
    ),
    "cot": (
        "Rewrite the answer below so that it first reasons step by step and then states the "
        "result. Keep the result the same as in the original answer. Finish with a line that "
        "starts with \"Final answer:\".\n\nQuestion:\n{{ instruction }}\n\nOriginal answer:\n{{ answer }}"
    ),
    "persona": (
        "You are this person: {{ persona }}\n\nRewrite the request below the way you would "
        "ask it yourself, with details from your own situation. Keep what is being asked. "
        "Reply with the rewritten request only.\n\nRequest:\n{{ instruction }}"
    ),
    "bsm_branch": (
        "List {{ k }} different aspects or sub-problems that a complete answer to the task "
        "below has to cover. Write one per line, numbered, with no other text.\n\n"
        "Task:\n{{ instruction }}"
    ),
    "bsm_solve": (
        "Task:\n{{ instruction }}\n\nAnswer only this part of the task, concisely: {{ branch }}"
    ),
    "bsm_merge": (
        "Task:\n{{ instruction }}\n\nPartial answers, each covering one part:\n"
        "{% for b in branches %}\n[{{ loop.index }}] {{ b.branch }}\n{{ b.answer }}\n{% endfor %}\n"
        "Merge them into one complete and coherent answer to the task. Do not mention the "
        "partial answers."
    ),
    # UltraFeedback-style rating of one response on one aspect
    "judge": (
        "Rate the response to the instruction below for {{ aspect }} on a scale of 1 to 5.\n"
        "{{ rubric }}\n\n"
        "Instruction:\n{{ instruction }}\n\nResponse:\n{{ response }}\n\n"
        "{% if structured %}Reply with a JSON object: {\"rationale\": \"<one or two sentences>\", "
        "\"rating\": <a whole number from 1 to 5>}{% else %}"
        "Reply in exactly this format:\nRationale: <one or two sentences>\n"
        "Rating: <a number from 1 to 5>{% endif %}"
    ),
    # DEITA (Liu et al. 2024): its scorers learned from a judge that scored a seed and its evolved
    # variants side by side; here the variants are a fixed ladder the row is placed on (1-6)
    "deita_complexity": (
        "Rate how complex the user request below is, on a scale of 1 to 6. Complexity is what "
        "answering it demands: the constraints it sets, how deep and specific it goes, and how many "
        "steps of reasoning it needs. Here is one request rewritten into ever harder variants, one "
        "per score; place the request on this ladder, whatever its topic:\n"
        "1: Write a poem.\n"
        "2: Write a short poem about the sea.\n"
        "3: Write a four-line rhyming poem about the sea at night.\n"
        "4: Write a four-line rhyming poem about the sea at night, in iambic meter, without the word \"water\".\n"
        "5: Write two four-line rhyming poems about the sea at night, one hopeful and one grieving, in iambic "
        "meter, without the word \"water\", and explain how the meter serves each mood.\n"
        "6: Write two four-line rhyming poems about the sea at night, one hopeful and one grieving, in iambic "
        "meter, without the word \"water\"; scan every line, explain how the meter serves each mood, and "
        "compare the two with a sonnet of your choice by a named poet, citing lines.\n\n"
        "Request:\n{{ instruction }}\n\n"
        "{% if structured %}Reply with a JSON object: {\"rationale\": \"<one sentence>\", "
        "\"rating\": <a whole number from 1 to 6>}{% else %}"
        "Reply in exactly this format:\nRationale: <one sentence>\nRating: <a number from 1 to 6>{% endif %}"
    ),
    "deita_quality": (
        "Rate the quality of the response to the question below, on a scale of 1 to 6. Quality is "
        "how helpful, relevant, accurate, deep and detailed the response is for this question. Here "
        "is one question with responses of rising quality, one per score; place the response on "
        "this ladder, whatever its topic:\n"
        "Question: How do I keep a basil plant alive indoors?\n"
        "1: Basil is a herb.\n"
        "2: Water it.\n"
        "3: Put it in a sunny window and water it when the soil is dry.\n"
        "4: Give it 6 or more hours of sun in a south-facing window, water when the top 2 cm of soil "
        "is dry, and use a pot that drains.\n"
        "5: As 4, and pinch off the tops above a leaf pair so it branches, remove flower buds, and "
        "keep it away from cold drafts below 10 degrees C.\n"
        "6: As 5, and explain why (flowering ends leaf growth, roots rot in standing water), name the "
        "signs of too little light or too much water, and say when to repot or use a grow light.\n\n"
        "Question:\n{{ instruction }}\n\nResponse:\n{{ response }}\n\n"
        "{% if structured %}Reply with a JSON object: {\"rationale\": \"<one sentence>\", "
        "\"rating\": <a whole number from 1 to 6>}{% else %}"
        "Reply in exactly this format:\nRationale: <one sentence>\nRating: <a number from 1 to 6>{% endif %}"
    ),
    # pairwise comparison, MT-Bench style; run in both orders by the caller
    "pairwise": (
        "Compare two responses to the instruction below and decide which one is better "
        "(more helpful, correct, honest and faithful to the instruction). Ignore their order and "
        "length; do not favour a response for coming first.\n\n"
        "Instruction:\n{{ instruction }}\n\n[Response A]\n{{ response_a }}\n\n[Response B]\n{{ response_b }}\n\n"
        "{% if structured %}Reply with a JSON object: {\"rationale\": \"<one or two sentences>\", "
        "\"winner\": \"A\" | \"B\" | \"tie\"}{% else %}"
        "Give a short rationale, then your verdict on the last line exactly as [[A]] if A is "
        "better, [[B]] if B is better, or [[C]] for a tie.{% endif %}"
    ),
    # documents -> question-answer pairs grounded in one chunk (the Augment toolkit's idea)
    "docs_qa": (
        "Below is a passage from a document. Write one {{ kind }} question that a reader can "
        "answer from the passage alone, then its answer, using only facts the passage states."
        "{% if followup %} Then write a follow-up question that builds on that answer, and its "
        "answer, also from the passage alone.{% endif %}\n"
        "Reply in exactly this format:\nQuestion: <question>\nAnswer: <answer>"
        "{% if followup %}\nFollow-up: <question>\nFollow-up answer: <answer>{% endif %}"
        "\n\nPassage:\n{{ chunk }}"
    ),
    "docs_grounding": (
        "Passage:\n{{ chunk }}\n\n{{ exchange }}\n\n"
        "Is every fact in the answer(s) above stated in the passage? Reply in exactly this format:\n"
        "Verdict: SUPPORTED or UNSUPPORTED\nReason: <one sentence>"
    ),
    # instruction backtranslation (Humpback): the request that a text would be the answer to
    "backtranslate": (
        "Below is a text written as the answer to some request from a user. Write the request "
        "itself: the instruction a user could have given an AI assistant for which this text is "
        "a good answer. Reply with the instruction only.\n\nText:\n{{ text }}"
    ),
    # Auto Evol-Instruct (Zeng et al. 2024): the evolution method is text the optimizer rewrites;
    # the reply format is ours, appended to every method so a rewrite cannot break it
    "auto_evol": (
        "{{ method }}\n\nEnd your reply with a line that starts with \"Final instruction:\" "
        "followed by the rewritten instruction.\n\nInstruction:\n{{ instruction }}"
    ),
    "auto_evol_check": (
        "An instruction was rewritten to make it more complex. Decide whether the rewrite failed. "
        "It failed if it is unchanged in substance, copies words of the rewriting method instead "
        "of being an instruction, refuses, cannot be answered (it needs information it does not "
        "give, or is not a request), or has constraints that contradict each other.\n\n"
        "Original:\n{{ original }}\n\nRewritten:\n{{ evolved }}\n\nReply in exactly this format:\n"
        "Verdict: OK or FAILED\nCategory: none, unchanged, copied, refused, unanswerable or contradicting\n"
        "Reason: <one sentence>"
    ),
    "auto_evol_optimize": (
        "You improve a method for rewriting instructions into more complex ones. The current "
        "method:\n<method>\n{{ method }}\n</method>\n\nApplied to a batch of instructions it "
        "failed on these:\n{% for f in failures %}- {{ f.category }}: {{ f.original | tojson }} became "
        "{{ f.evolved | tojson }} ({{ f.reason }})\n{% endfor %}\nRewrite the method so that it "
        "avoids these failures and still makes instructions more complex. Reply with the new "
        "method only, between <method> and </method>."
    ),
}

JUDGE_RUBRICS: dict[str, str] = {
    "helpfulness": "1 = unhelpful or wrong; 3 = partly useful; 5 = fully solves the task, clear and complete.",
    "honesty": "1 = confidently wrong or deceptive; 3 = mostly honest, some unflagged doubt; "
               "5 = correct and says where it is unsure.",
    "instruction_following": "1 = ignores the instruction; 3 = follows part of it; 5 = follows every "
                             "part and constraint.",
    "truthfulness": "1 = mostly fabricated; 3 = some factual errors; 5 = no factual errors or inventions.",
    "overall": "1 = useless or harmful; 3 = acceptable with clear flaws; 5 = an answer an expert would give.",
    # Humpback's self-curation scale (Li et al. 2023), in our words
    "answer_quality": "1 = incomplete, vague, off-topic or not an answer to it; 2 = addresses most of it "
                      "but not directly; 3 = helpful but written from another perspective (a blog post, "
                      "a web page), not as an assistant's answer; 4 = an assistant's answer, complete "
                      "and clear, with small room to improve; 5 = a perfect assistant's answer: focused, "
                      "expert, well organised.",
}


class PromptError(ValueError):
    pass


def render(name_or_source: str, overrides: dict[str, str] | None = None, **variables) -> str:
    """Render the built-in prompt `name` (or the user's override of it) with `variables`.

    A user's template is untrusted code: it renders in a rendering process (see
    workbench.templates.sandbox). A built-in one is our own text, whose variables are only
    data: it renders here, in the same sandboxed environment, so a job's workers do not wait
    for rendering processes to start (which, on a loaded machine, took longer than the
    deadline and failed every row)."""
    user = (overrides or {}).get(name_or_source)
    if user is None and name_or_source not in PROMPTS:
        raise PromptError(f"unknown prompt {name_or_source!r}; known: {', '.join(PROMPTS)}")
    from jinja2 import TemplateError

    from workbench.templates.sandbox import TemplateFailure, render_text

    try:
        if user is not None:
            return render_text(user, **variables).strip()
        return _builtin(name_or_source).render(**variables).strip()
    except TemplateFailure as e:
        raise PromptError(f"prompt {name_or_source!r}: {e}") from None
    except TemplateError as e:  # a built-in prompt given too few variables: named, not a traceback
        raise PromptError(f"prompt {name_or_source!r}: {type(e).__name__}: {e}") from None


@lru_cache(maxsize=None)
def _builtin(name: str):
    from workbench.templates.sandbox import PROMPT_ENV

    return PROMPT_ENV.from_string(PROMPTS[name])


def load_overrides(items: list[str]) -> dict[str, str]:
    """`NAME=FILE` items -> {name: template text}; the templates are checked as they load."""
    out = {}
    for item in items:
        name, sep, path = item.partition("=")
        if not sep or name not in PROMPTS:
            raise PromptError(f"--prompt expects NAME=FILE with NAME one of {', '.join(PROMPTS)}; got {item!r}")
        text = Path(path).read_text(encoding="utf-8")
        from workbench.templates.sandbox import TemplateFailure, compile_template

        try:
            compile_template(text, prompt=True)
        except TemplateFailure as e:
            raise PromptError(f"{path}:{e.line}: {e}" if e.line else f"{path}: {e}") from None
        out[name] = text
    return out
