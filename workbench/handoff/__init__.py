"""Handing a curated dataset to a trainer: train/test splits, one kind per file, signals as
columns, and the data file plus the config each trainer (LLaMA-Factory, axolotl, TRL) loads
without edits. Built on `workbench.store.export`, which applies the workspace's decisions."""
