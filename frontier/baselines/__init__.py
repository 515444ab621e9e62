"""Baselines measured here: prompted LLMs behind an OpenAI-compatible chat-completions endpoint.

``llm`` sends eval rows to the endpoint (zero- or few-shot prompt with the label set, temperature 0, a
cap on output tokens), maps each reply onto a label, and records latency, tokens from the API's
``usage``, errors and retries; ``frontier.decision.baselines`` prices and compares what it measured.
A workload like ``frontier.serving``: it imports nothing of the operator or the trainer.
"""
