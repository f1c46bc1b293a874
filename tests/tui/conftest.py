"""Fixtures for the TUI tests (the dataset `ds` and workspace `ws` come from tests/conftest.py)."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def make_app(ds, ws):
    from workbench.tui.app import WorkbenchApp

    def make(**kw):
        return WorkbenchApp(dataset=kw.pop("dataset", ds), workspace=kw.pop("workspace", ws), **kw)

    return make


@pytest.fixture
def screen_text():
    """The text on the terminal as the user sees it (Textual is pinned, so this private hook is stable)."""

    def text(app) -> str:
        return "\n".join(strip.text for strip in app.screen._compositor.render_strips())

    return text


async def ready(pilot) -> None:
    """Let the app open its dataset and settle (import it: `from tests.tui.conftest import ready`)."""
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def _wait_until(pilot, condition, what: str, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit  # only to fail instead of hanging: no speed is measured
    while not condition():
        if time.monotonic() >= deadline:  # say what the screen showed instead
            screen = "\n".join(strip.text for strip in pilot.app.screen._compositor.render_strips())
            raise AssertionError(f"gave up waiting for {what}; the screen:\n{screen}")
        await pilot.pause(0.05)


@pytest.fixture
def wait_until():
    """`await wait_until(pilot, condition, what)`: let the app run until condition() holds."""
    return _wait_until


@pytest.fixture
def run_from_palette():
    """Type a command's name into the command palette and press enter, as a user would."""

    async def run(pilot, name: str) -> None:
        from textual.command import CommandList, CommandPalette
        from textual.worker import WorkerState

        def settled() -> bool:
            # The palette searches in a worker and shows partial results as they come: enter
            # before the search for the whole name settled could run another command, or none.
            if not isinstance(pilot.app.screen, CommandPalette):
                return False
            searching = any(w.group == CommandPalette._GATHER_COMMANDS_GROUP
                            and w.state in (WorkerState.PENDING, WorkerState.RUNNING) for w in pilot.app.workers)
            option = pilot.app.screen.query_one(CommandList).highlighted_option
            return not searching and option is not None and option.hit.text == name

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*name)
        await _wait_until(pilot, settled, f"the command palette to offer {name!r}")
        await pilot.press("enter")
        await _wait_until(pilot, lambda: not isinstance(pilot.app.screen, CommandPalette), "the palette to close")
        await pilot.pause()  # the palette queued the command as it closed; its action runs in a worker

    return run


@pytest.fixture
def wait_for_operation():
    """Wait until the Jobs pane shows that operation NAME (its only run in the test) ended."""

    async def wait(pilot, name: str) -> None:
        from textual.css.query import NoMatches

        def ended() -> bool:
            try:
                state = pilot.app.query_one("#jobs").events.get(f"op:{name}")
            except NoMatches:  # the pane is built with the operation's first message
                return False
            return state is not None and state[1] != "running"

        await _wait_until(pilot, ended, f"{name} to end")
        await pilot.app.workers.wait_for_complete()  # what the panes recompute when it ends
        await pilot.pause()

    return wait


@pytest.fixture
def two_files(tmp_path):
    """Two small Alpaca files, alpha.jsonl (4 rows) and beta.jsonl (3 rows), as (path, path)."""
    a, b = tmp_path / "alpha.jsonl", tmp_path / "beta.jsonl"
    for path, n in ((a, 4), (b, 3)):
        path.write_text("".join(f'{{"instruction": "question {path.stem} {i}", "output": "answer number {i}"}}\n'
                                for i in range(n)))
    return a, b
