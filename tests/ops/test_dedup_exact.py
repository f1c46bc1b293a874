from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.ops.dedup_exact import ExactParams, exact_dedup, normalise

# Few distinct letters and spacing so that duplicates (after normalising) are common.
texts = st.lists(st.text(alphabet="aAbB ,.\n", max_size=6), max_size=40)


@settings(max_examples=150, deadline=None)
@given(texts, st.booleans(), st.booleans(), st.booleans())
def test_exact_dedup_invariants(xs, case, whitespace, punctuation):
    p = ExactParams(case=case, whitespace=whitespace, punctuation=punctuation)
    key = [normalise(t, case=case, whitespace=whitespace, punctuation=punctuation) for t in xs]
    clusters = exact_dedup(xs, p)
    seen = set()
    for c in clusters:
        assert len(c.members) >= 2
        assert not seen & set(c.members)  # a row is in at most one cluster
        seen |= set(c.members)
        assert len({key[m] for m in c.members}) == 1  # members are equal once normalised
        assert c.representative == min(c.members)  # keep="first"
        assert set(c.matched) == set(c.members) - {c.representative}
        assert all(other == c.representative and s == 1.0 for other, s in c.matched.values())
    # Every group of equal non-empty keys is one cluster: rejecting the non-representatives leaves
    # one per key; empty texts duplicate nothing.
    assert len(xs) - sum(len(c.members) - 1 for c in clusters) == len(set(key) - {""}) + key.count("")
    assert {i for i in range(len(xs)) if key[i] and key.count(key[i]) > 1} == seen


def test_empty_texts_are_not_duplicates():
    # Text rows have an empty prompt view: dedup --view prompt must not cluster them together.
    clusters = exact_dedup(["", "  ", "Hi", "hi", ""], ExactParams())
    assert [c.members for c in clusters] == [[2, 3]]


def test_options_each_matter():
    xs = ["Hello,  World", "hello world", "HELLO, WORLD"]
    groups = lambda **kw: sorted(sorted(c.members) for c in exact_dedup(xs, ExactParams(**kw)))
    assert groups(case=True, whitespace=True, punctuation=True) == [[0, 1, 2]]
    assert groups(case=True, whitespace=True, punctuation=False) == [[0, 2]]
    assert groups(case=False, whitespace=True, punctuation=True) == []
    assert groups(case=True, whitespace=False, punctuation=True) == [[1, 2]]


def test_keep_longest_and_score():
    xs = ["same text", "Same text", "SAME TEXT"]
    c, = exact_dedup(xs, ExactParams(keep="longest"), lengths=[5, 9, 7])
    assert c.representative == 1
    c, = exact_dedup(xs, ExactParams(keep="score"), scores=[0.2, None, 0.9])
    assert c.representative == 2 and c.matched[0] == (2, 1.0)
