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
