"""Workbench: a terminal workbench for LLM post-training datasets."""

__version__ = "0.1.0"
