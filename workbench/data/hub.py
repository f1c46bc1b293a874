"""`hf:ORG/NAME[:CONFIG][:SPLIT]`: a dataset from the local Hugging Face hub cache, offline.

The snapshot folder is found by huggingface_hub (`snapshot_download(local_files_only=True)`,
which never touches the network) and read like any folder: its `train-*.parquet` /
`test-*.parquet` shards (or split-named files) open as one source per split. CONFIG picks the
config's subfolder when the snapshot has one; SPLIT opens that split alone.
"""

from __future__ import annotations

from pathlib import Path

PREFIX = "hf:"


def parse(spec: str) -> tuple[str, str | None, str | None]:
    """"hf:org/name:config:split" -> ("org/name", "config", "split"); empty parts are None.
    Raises ValueError for a spec without ORG/NAME."""
    repo, _, rest = spec[len(PREFIX):].partition(":")
    config, _, split = rest.partition(":")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"{spec}: expected hf:ORG/NAME[:CONFIG][:SPLIT]")
    return repo, config or None, split or None


def snapshot(spec: str) -> tuple[str, str | None]:
    """(folder to open, split or None) for an `hf:` spec. Raises FileNotFoundError naming the
    dataset when it is not in the local cache (nothing is downloaded)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    repo, config, split = parse(spec)
    try:
        folder = Path(snapshot_download(repo, repo_type="dataset", local_files_only=True))
    except LocalEntryNotFoundError:
        raise FileNotFoundError(f"{spec}: {repo} is not in the local Hugging Face cache "
                                f"(download it once where there is a network, e.g. `hf download {repo} "
                                f"--repo-type dataset`)") from None
    if config:
        sub = folder / config
        if not sub.is_dir():
            configs = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
            raise FileNotFoundError(f"{spec}: no config {config!r} in {repo}; its folders: {', '.join(configs) or 'none'}")
        folder = sub
    return str(folder), split
