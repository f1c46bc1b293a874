import numpy as np

from workbench.tui.widgets.stats_view import histogram


def bins_of(table):
    return [(str(label).split("–")[0].strip(), int(count)) for label, _, count in zip(*(c._cells for c in table.columns))]


def test_turn_histogram_keeps_zero_turn_rows_apart():
    # Text rows have 0 turns: they must not be counted as 1-turn rows.
    turns = np.array([0, 0, 0, 1, 2, 2, 8])
    rows = bins_of(histogram(turns, bins=9, log=False))
    assert rows[0] == ("0", 3)
    assert rows[1] == ("1", 1)
    assert sum(c for _, c in rows) == len(turns)
    assert len(rows) == 9  # one bin per whole value 0..8
