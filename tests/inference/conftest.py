"""Configuration of the inference-only backends' suite (tests/inference): Keras' `numpy`
backend (in `.venv-backends`) and its `openvino` backend (in `.venv-export`, which has
OpenVINO):

    KERAS_BACKEND=numpy .venv-backends/bin/python -m pytest tests/inference
"""

import os
import sys

# The helpers and oracles shared by the suites (tests/support), this conftest's among them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))

import suite  # noqa: E402

suite.choose_backend("numpy")

from suite import _fresh_keras_state, pytest_report_header  # noqa: E402,F401  (this suite's hook and fixture)


def pytest_configure(config):
    suite.ignore_warnings(
        config,
        # Both backends say that custom_gradient (implementation 1's) only runs forward.
        "`custom_gradient` for the",
        suite.NUMPY_COPY_WARNING,
    )
