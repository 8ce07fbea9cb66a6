"""Pure-Python benchmarks: no setup, each builds its own small input."""

from __future__ import annotations

from collections import Counter

from example_inputs import text

# Built once when the worker imports this module: also outside the timing.
TEXT = text(50_000)


def bench_word_count() -> list[tuple[str, int]]:
    """Count the words of a 50,000-word text and rank them."""
    return Counter(TEXT.split()).most_common()


def bench_prime_sieve() -> int:
    """Count the primes below 300,000 with the sieve of Eratosthenes."""
    limit = 300_000
    sieve = bytearray([1]) * limit
    sieve[0:2] = b"\x00\x00"
    for number in range(2, int(limit**0.5) + 1):
        if sieve[number]:
            sieve[number * number :: number] = bytes(len(range(number * number, limit, number)))
    return sum(sieve)
