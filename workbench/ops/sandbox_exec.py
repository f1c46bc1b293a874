"""Run untrusted Python (a model's answer and its tests) in a sandbox: bubblewrap plus limits.

What holds, and how:
- files: a private mount namespace (bubblewrap) whose root is an empty tmpfs with read-only
  binds of /usr, /lib*, /bin and the Python installation only: no /etc, /home, /root or
  workspace is visible; the only writable place is a small tmpfs (TMP_MB) that is the cwd.
- processes: the code runs as the unprivileged user `nobody` (setpriv; RLIMIT_NPROC is not
  enforced for root) with RLIMIT_NPROC = that user's processes + MAX_PROCS, in its own PID
  namespace; killing bubblewrap at the deadline kills the namespace's init and with it every
  descendant, `setsid()` or not (bwrap --die-with-parent; a PID namespace dies with its init).
- resources: RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, no core files, a wall-clock deadline.
- network: its own network namespace (loopback only, down), and the socket module disabled.
- secrets: an environment of PATH, LANG and HOME only.

Needs the `bwrap` program (Debian/Ubuntu package `bubblewrap`); without it nothing runs and
the error says so (running model-written code unconfined is not an option we offer).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
from functools import lru_cache

MAX_PROCS = 32  # processes the code may have at once
TMP_MB = 64  # size of the writable temp dir
FILE_MB = 16  # largest file the code may write
NOBODY = 65534
WORKDIR = "/sandbox"
# Every namespace but the user one: as root, a user namespace would map `nobody` to nothing.
_UNSHARE = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try")

# Runs first in the child: no sockets of any kind, then the program as __main__.
_BOOT = r"""
import socket, _socket, sys, runpy
class _NoNetwork(OSError):
    pass
def _blocked(*a, **k):
    raise _NoNetwork("network access is disabled while verifying")
for _m in (socket, _socket):
    for _name in ("socket", "create_connection", "getaddrinfo", "socketpair", "fromfd", "create_server"):
        if hasattr(_m, _name):
            setattr(_m, _name, _blocked)
sys.argv = [sys.argv[1]]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


class SandboxUnavailable(RuntimeError):
    """This machine cannot run the sandbox (no bubblewrap, or it cannot make namespaces)."""


@lru_cache(maxsize=1)
def _bwrap() -> str:
    exe = shutil.which("bwrap")
    if not exe:
        raise SandboxUnavailable("running code needs bubblewrap (`apt install bubblewrap`), which is not installed")
    try:
        probe = subprocess.run([exe, *_binds(), *_UNSHARE, "--die-with-parent", "true"],
                               capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise SandboxUnavailable(f"bubblewrap does not run here: {e}") from None
    if probe.returncode != 0:
        raise SandboxUnavailable("bubblewrap cannot make a sandbox here: "
                                 + probe.stderr.decode("utf-8", "replace").strip())
    return exe


def _binds() -> list[str]:
    """Read-only binds of what a Python interpreter needs, and nothing else."""
    out = []
    for d in ("/usr", "/bin", "/sbin", "/lib", "/lib64", "/lib32"):
        if os.path.islink(d):
            out += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            out += ["--ro-bind", d, d]
    base = os.path.realpath(sys.base_prefix)
    if not base.startswith("/usr/"):
        out += ["--ro-bind", base, base]
    return out + ["--proc", "/proc", "--dev", "/dev"]


def _processes_of(uid: int) -> int:
    n = 0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                n += os.stat(f"/proc/{pid}").st_uid == uid
            except OSError:
                pass
    return n


def _limits(cpu_seconds: int, memory_mb: int, nproc: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
        resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_MB << 20, FILE_MB << 20))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
    return apply


def run_python(program: str, *, timeout: float = 10.0, memory_mb: int = 512) -> dict:
    """Run `program` (Python source) in the sandbox. Returns {"ok", "returncode", "output" (its
    last 600 characters of stdout+stderr), "reason" (None when ok, else why, in words)}.
    Raises SandboxUnavailable when the machine cannot sandbox."""
    bwrap = _bwrap()
    root = os.geteuid() == 0
    uid = NOBODY if root else os.geteuid()
    python = os.path.realpath(sys.executable)
    with tempfile.TemporaryDirectory(prefix="wb-verify-") as d:
        path = os.path.join(d, "program.py")
        with open(path, "w", encoding="utf-8") as f:
            f.write(program)
        drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"] if root else []
        cmd = [bwrap, *_binds(), "--size", str(TMP_MB << 20), "--perms", "1777", "--tmpfs", WORKDIR,
               "--ro-bind", path, f"{WORKDIR}/program.py", "--chdir", WORKDIR,
               *_UNSHARE, "--die-with-parent", "--new-session", "--clearenv",
               "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "LANG", "C.UTF-8",
               "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--setenv", "HOME", WORKDIR,
               *drop, python, "-I", "-S", "-c", _BOOT, f"{WORKDIR}/program.py"]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True,
                                preexec_fn=_limits(int(timeout) + 1, memory_mb, _processes_of(uid) + MAX_PROCS))
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # bwrap dies, its PID namespace's init dies with it, and the kernel kills the rest
            os.killpg(proc.pid, signal.SIGKILL)
            try:
                out, _ = proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:  # something outside the namespace holds the pipe: give up on it
                out = b""
            return {"ok": False, "returncode": None, "output": _tail(out), "reason": f"timed out after {timeout:g} s"}
        rc = proc.returncode
        reason = None if rc == 0 else ("killed by a resource limit" if rc < 0 else f"exit status {rc}")
        if rc != 0 and b"MemoryError" in out:
            reason = "out of memory"
        return {"ok": rc == 0, "returncode": rc, "output": _tail(out), "reason": reason}


def _tail(out: bytes, n: int = 600) -> str:
    return out.decode("utf-8", "replace")[-n:]
