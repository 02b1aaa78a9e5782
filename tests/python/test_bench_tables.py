"""The calibration table: auto's own time and the time of the implementation it chose, each over
the fastest implementation."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "bench"))

import calibrate  # noqa: E402


def test_calibration_table_has_auto_and_its_choice_over_the_fastest():
    rows = [{"backend": "jax", "shape": "a", "auto": 1, "ms 1": 1.0, "ms 2": 2.0, "ms 3": 4.0, "ms auto": 1.5},
            {"backend": "jax", "shape": "b", "auto": "3", "ms 1": 1.0, "ms 2": 2.0, "ms 3": 4.0, "ms auto": 1.0}]
    lines = calibrate.markdown(rows).splitlines()
    assert "| a | 1.00 | 2.00 | 4.00 | 1.50 (=1) | 1.50x | 1.00x |" in lines
    assert "| b | 1.00 | 2.00 | 4.00 | 1.00 (=3) | 1.00x | 4.00x |" in lines
    assert ("auto / best: geometric mean 1.22x, at most 1.50x; chosen / best: geometric mean 2.00x, "
            "at most 4.00x.") in lines


def test_backends_table_has_the_chosen_implementation_over_our_best():
    import backends

    case = "b128_8x8x4_k3_f8"
    times = {"ours 1": 2.0, "ours 1 native": 3.0, "ours 1 other format": 2.0, "ours 2": 4.0, "ours 3": 1.0,
             "ours auto": 1.2, "peer": 6.0, "conv": 1.0, "matmul": 0.5}
    notes = {"ours auto": "=1"}
    rows = [{"backend": "jax", "case": case, "variant": variant, "ms": ms, "peak_mib": "",
             "note": notes.get(variant, "")} for variant, ms in times.items()]
    lines = backends.markdown(rows).splitlines()
    # auto's own time over our best (1.2 / 1.0), then the implementation it runs (1) over it.
    row = next(line for line in lines if line.startswith(f"| {case} |"))
    assert "| 5.00x | 1.20x | 2.00x | 1.00x |" in row, row
    assert any("auto within 1.20x of our best on every case (the implementation it runs, timed as its own "
               "variant, within 2.00x)" in line for line in lines)
