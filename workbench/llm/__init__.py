"""LLM calls: one client (`client.LLMClient`) whose requests run concurrently on one event loop
(`aio`), over httpx for OpenAI-compatible servers (`openai_http`), the embedded local model
(`local`) or litellm for other providers; reply checks and errors (`errors`), the response
cache (`cache`), credential redaction of base URLs (`redact`) and operation prompts (`prompts`).

Nothing here imports litellm, httpx or torch at import time. The fault-injecting loopback
server the tests and benchmarks use lives in tests/support/loopback.py.
"""
