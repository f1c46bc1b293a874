"""LLM calls: one client over litellm (`client.LLMClient`), the embedded local model
(`local`), response cache keys (`cache`), operation prompts (`prompts`) and a fault-injecting
OpenAI-compatible loopback server for tests and benchmarks (`loopback`).

Nothing here imports litellm or torch at import time.
"""
