"""The verify sandbox against the probes of issue 14: files, processes, the deadline, network."""

from __future__ import annotations

import os
import time

from workbench.ops.generation.verify import run_python


def test_the_users_files_are_not_visible(tmp_path):
    res = run_python("print(open('/etc/passwd').read())\n")
    assert not res["ok"] and "root:" not in res["output"] and "FileNotFoundError" in res["output"]
    secret = tmp_path / "secret.txt"
    secret.write_text("sk-private")
    secret.chmod(0o644)
    res = run_python(f"print(open({str(secret)!r}).read())\n")
    assert not res["ok"] and "sk-private" not in res["output"] and "FileNotFoundError" in res["output"]


def test_nothing_is_written_outside_the_temp_dir(tmp_path):
    target = tmp_path / "planted"
    res = run_python(f"open({str(target)!r}, 'w').write('x')\n")
    assert not res["ok"] and not target.exists()
    res = run_python("open('/root/.planted', 'w').write('x')\n")
    assert not res["ok"] and not os.path.exists("/root/.planted")
    # the temp dir is writable, so tests that write a scratch file still pass
    assert run_python("open('scratch.txt', 'w').write('x')\nassert open('scratch.txt').read() == 'x'\n")["ok"]


def test_a_fork_bomb_is_bounded():
    prog = ("import os, time\nn = 0\nfor _ in range(2000):\n    try:\n        pid = os.fork()\n"
            "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(30)\n        os._exit(0)\n"
            "    n += 1\nprint('forked', n)\n")
    res = run_python(prog, timeout=20)
    forked = int(res["output"].split("forked")[1].split()[0])
    assert 0 < forked < 100, res


def test_a_setsid_child_dies_at_the_deadline(tmp_path):
    # The child detaches (new session), then outlives its parent; the deadline must still hold
    # and nothing of it may be left running.
    prog = ("import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            "        time.sleep(60)\n    os._exit(0)\ntime.sleep(60)\n")
    before = _sleepers()
    t0 = time.monotonic()
    res = run_python(prog, timeout=2)
    assert res["reason"] == "timed out after 2 s" and time.monotonic() - t0 < 15
    time.sleep(0.5)
    assert _sleepers() <= before


def _sleepers() -> set[int]:
    """Processes running the program file of a sandbox (left-overs of a killed run)."""
    out = set()
    for pid in os.listdir("/proc"):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read()
        except OSError:
            continue
        if b"/sandbox/program.py" in cmd or b"wb-verify-" in cmd:
            out.add(int(pid))
    return out
