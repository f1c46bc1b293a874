"""Generated data with planted topics, for the exploration tests."""

from __future__ import annotations

import random

from workbench.data.record import make_record

TOPICS = {
    "cooking": (
        ["How long should I {v} the {n}?", "What is the best way to {v} {n} for dinner?",
         "Can I {v} the {n} the night before?", "Why does my {n} taste bland when I {v} it?"],
        ["bake", "roast", "simmer", "marinate", "grill", "saute"],
        ["chicken thighs", "sourdough bread", "tomato sauce", "salmon fillet", "vegetable soup", "lasagna"],
        "Season it well, cook it over medium heat and taste before serving; {n} needs salt and time.",
    ),
    "programming": (
        ["How do I {v} a {n} in Python?", "Why does my code fail when I {v} the {n}?",
         "What is the fastest way to {v} a {n} in JavaScript?", "Write a function to {v} a {n}."],
        ["sort", "reverse", "parse", "serialize", "iterate over", "deduplicate"],
        ["list of integers", "JSON object", "linked list", "dictionary", "CSV file", "binary tree"],
        "Use the built-in library: define a function that takes the {n} and returns the result, then test it.",
    ),
    "astronomy": (
        ["How far away is the {n} from Earth?", "Why does the {n} {v}?",
         "Can a telescope see the {n} {v}?", "What would happen if the {n} stopped to {v}?"],
        ["orbit", "shine", "rotate", "collapse", "expand", "glow"],
        ["Andromeda galaxy", "planet Jupiter", "red giant star", "black hole", "Milky Way", "neutron star"],
        "Astronomers measure the {n} with telescopes; light from it travels across space for many years.",
    ),
}


def topic_records(per_topic: int = 100, seed: int = 0) -> tuple[list[dict], list[str]]:
    """SFT rows from three clearly different topic families, and each row's planted topic."""
    rng = random.Random(seed)
    recs, labels = [], []
    for topic, (questions, verbs, nouns, answer) in TOPICS.items():
        for i in range(per_topic):
            n = rng.choice(nouns)
            q = rng.choice(questions).format(v=rng.choice(verbs), n=n)
            recs.append(make_record(
                id=f"{topic}-{i}",
                messages=[{"role": "user", "content": q}, {"role": "assistant", "content": answer.format(n=n)}],
            ))
            labels.append(topic)
    order = list(range(len(recs)))
    rng.shuffle(order)
    return [recs[i] for i in order], [labels[i] for i in order]


INTRO_ASKS = ["Who are you?", "What is your name?", "Please introduce yourself.", "Who made you?",
              "Are you ChatGPT?", "Which company trained you?", "What should I call you?", "Are you a person?",
              "Tell me about yourself.", "Hello, who am I talking to?", "你是谁？", "你叫什么名字？"]
INTRO_ANSWERS = ["I am {a}, an AI assistant developed by {o}.", "My name is {a}. {o} built me to help you.",
                 "I'm {a}, a virtual assistant created by {o}. How can I help?",
                 "You are talking to {a}, an assistant trained by {o}.", "我是 {a}，一个由 {o} 开发的人工智能助手。"]


def intro_records(n: int = 46, seed: int = 0) -> list[dict]:
    """Self-introductions of an assistant (the shape of LLaMA-Factory's identity.json): a tight
    group of near-identical rows, as a curator's dataset often holds beside varied ones."""
    rng = random.Random(seed)
    return [make_record(id=f"intro-{i}", messages=[
        {"role": "user", "content": rng.choice(INTRO_ASKS)},
        {"role": "assistant", "content": rng.choice(INTRO_ANSWERS).format(a=rng.choice(["Nova", "Ada", "Orbit"]),
                                                                           o=rng.choice(["Acme Labs", "Example AI"]))},
    ]) for i in range(n)]
