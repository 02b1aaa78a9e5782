"""The bench's interleaved timing: every variant runs in every turn, in an order that rotates."""

import itertools
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))

import timing  # noqa: E402


def test_variants_take_turns_in_a_rotating_order():
    calls = []

    def run_of(name):
        def run():
            calls.append(name)
            time.sleep(0.002)

        return run

    medians = timing.interleaved_median_seconds({name: run_of(name) for name in "abc"}, repeats=1,
                                                min_seconds=0.05, turn_seconds=0.01)
    assert set(medians) == set("abc") and all(0.002 <= m < 0.1 for m in medians.values())
    # One warm-up run each, then per turn each variant's untimed run and burst back to back.
    bursts = [name for name, _ in itertools.groupby(calls[3:])]
    assert bursts[:9] == list("abcbcacab")
