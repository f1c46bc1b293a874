"""The execution engine interface: how a step's Result is computed. `run_step`
(workbench.engine.local) runs an operation through an engine and saves the Result with
`apply_result` from this process either way, so the TUI reviews a cluster run like a local one.

    with make_engine("ray", num_cpus=2) as engine:
        run_step(op, ds, ws, params, engine=engine)

`Engine` itself is the local engine: the operation's own `run`, in this process (threads).
`workbench.engine.ray.RayEngine` runs the operations it knows as Ray Data stages.
"""

from __future__ import annotations

from workbench.ops.base import Context, Operation, Params, Result

ENGINES = ("local", "ray")
# What the Ray engine runs as Ray Data stages (the rest runs in the driver), and the containers
# of the shards it writes (workbench.engine.ray).
RAY_STAGES = ("filter", "decontam", "dedup-exact", "dedup-minhash")
SHARD_SUFFIXES = ("jsonl", "jsonl.gz", "parquet")


class Engine:
    name = "local"

    def compute(self, op: Operation, ds, params: Params, ctx: Context, rows: list[str] | None = None) -> Result:
        """The Result of `op` over `ds` (or the row ids `rows`); writes nothing."""
        return op.run(ds, params, ctx, rows)

    def close(self) -> None:
        """Release what the engine started (a local Ray instance)."""

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_engine(name: str = "local", *, address: str | None = None, num_cpus: int | None = None) -> Engine:
    """The engine called `name`: "local", or "ray" (connects to `address` — ray://HOST:PORT or
    "auto" — or starts a local Ray instance with `num_cpus` CPUs, shut down by close())."""
    if name == "local":
        return Engine()
    if name == "ray":
        from workbench.engine.ray import RayEngine

        return RayEngine(address=address, num_cpus=num_cpus)
    raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}")
