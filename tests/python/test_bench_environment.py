"""The bench's child processes get exactly the settings they are measured under: glibc's malloc
keeping freed memory only in the runs that name it, never inherited from the shell."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))

import backends  # noqa: E402
import timing  # noqa: E402


@pytest.fixture
def shell_with_malloc_settings(monkeypatch):
    monkeypatch.setenv("MALLOC_MMAP_MAX_", "7")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "123")
    monkeypatch.setenv("KEEP_THIS", "yes")


def test_default_run_drops_the_shells_malloc_settings(shell_with_malloc_settings):
    environment = backends.backend_environment("jax")
    assert environment["KERAS_BACKEND"] == "jax"
    assert environment["KEEP_THIS"] == "yes"
    assert not set(timing.KEEP_FREED_MEMORY) & set(environment)


def test_keep_freed_memory_run_sets_them(shell_with_malloc_settings):
    environment = backends.backend_environment("torch", keep_freed_memory=True)
    assert environment["KERAS_BACKEND"] == "torch"
    assert environment["KEEP_THIS"] == "yes"
    for name, value in timing.KEEP_FREED_MEMORY.items():
        assert environment[name] == value


def test_results_name_the_settings():
    row = {"backend": "jax", "case": "b128_8x8x4_k3_f8", "ms": 1.0, "peak_mib": "", "note": ""}
    rows = [dict(row, variant=variant) for variant in backends.VARIANTS]
    assert "MALLOC_MMAP_MAX_=0" in backends.markdown(rows, environment=timing.KEEP_FREED_MEMORY).splitlines()[0]
    assert "MALLOC" not in backends.markdown(rows).splitlines()[0]
