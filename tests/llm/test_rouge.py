from hypothesis import given, strategies as st

from workbench.ops.generation.rouge import RougePool, lcs_length, rouge_l, tokens


def reference_lcs(a: list, b: list) -> int:
    """The textbook dynamic programme (what rouge.py computed by hand before rapidfuzz)."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def reference_rouge_l(a: str, b: str) -> float:
    """ROUGE-L F1 as its definition reads: P = LCS/len(b), R = LCS/len(a), F = 2PR/(P+R)."""
    ta, tb = tokens(a), tokens(b)
    lcs = reference_lcs(ta, tb)
    if not lcs:
        return 0.0
    p, r = lcs / len(tb), lcs / len(ta)
    return 2 * p * r / (p + r)


def test_known_values():
    assert lcs_length(list("ABCBDAB"), list("BDCABA")) == 4
    # 'the cat sat on the mat' vs 'the cat on the mat': LCS 5, P=5/5, R=5/6
    assert abs(rouge_l("the cat sat on the mat", "the cat on the mat") - 2 * 1 * (5 / 6) / (1 + 5 / 6)) < 1e-9
    assert rouge_l("Hello, World!", "hello world") == 1.0
    assert rouge_l("", "anything") == 0.0
    assert rouge_l("alpha beta", "gamma delta") == 0.0
    assert tokens("It's 3 o'clock") == ["it", "s", "3", "o", "clock"]


def test_pool_max_matches_brute_force():
    texts = ["write a poem about the sea", "summarise this article in one line",
             "translate the sentence into french", "write a short poem about mountains"]
    pool = RougePool(texts)
    cand = "write a poem about the mountains"
    assert abs(pool.max_score(cand) - max(rouge_l(t, cand) for t in texts)) < 1e-9
    assert pool.max_score("completely unrelated words here") == 0.0
    pool.add(cand)
    assert len(pool) == 5 and pool.max_score(cand) == 1.0


words = st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), max_size=12)


@given(words, words)
def test_rouge_is_symmetric_and_bounded(a, b):
    x, y = rouge_l(a, b), rouge_l(b, a)
    assert abs(x - y) < 1e-12 and 0.0 <= x <= 1.0
    if a and a == b:
        assert x == 1.0


@given(words, words)
def test_rapidfuzz_scores_equal_the_reference(a, b):
    assert lcs_length(a, b) == reference_lcs(a, b)
    assert abs(rouge_l(" ".join(a), " ".join(b)) - reference_rouge_l(" ".join(a), " ".join(b))) < 1e-12


@given(st.lists(words, min_size=1, max_size=6), words)
def test_pool_equals_max_of_pairs(pool_texts, cand):
    pool = RougePool([" ".join(t) for t in pool_texts])
    expect = max(rouge_l(t, cand) for t in pool_texts)
    assert abs(pool.max_score(" ".join(cand)) - expect) < 1e-9
