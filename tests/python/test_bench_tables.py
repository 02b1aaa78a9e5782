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
