"""Tiny string benchmark for the agent's own tests."""


def bench_join_words() -> str:
    """Join a few words."""
    return " ".join(str(i) for i in range(100))
