import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench.ops.unionfind import components


def naive(n, edges):
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [min(j for j in range(n) if find(j) == find(i)) for i in range(n)]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))))
def test_components_match_a_plain_union_find(case):
    n, edges = case
    a = np.array([e[0] for e in edges], dtype=np.int64)
    b = np.array([e[1] for e in edges], dtype=np.int64)
    assert components(n, a, b).tolist() == naive(n, edges)


def test_a_long_chain_is_one_component():
    n = 5000
    labels = components(n, np.arange(n - 1)[::-1], np.arange(1, n)[::-1])
    assert (labels == 0).all()
