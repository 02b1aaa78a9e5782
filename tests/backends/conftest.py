"""Configuration of the multi-backend suite (tests/backends), run once per Keras backend in
the `.venv-backends` environment (NumPy 2, JAX, PyTorch, TensorFlow):

    KERAS_BACKEND=jax .venv-backends/bin/python -m pytest tests/backends

KERAS_BACKEND must be chosen before Keras is imported; without it this suite uses JAX.
Nothing here imports TensorFlow: on the JAX and PyTorch backends the package must work
without it.
"""

import os
import sys

# The helpers and oracles shared by the suites (tests/support), this conftest's among them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))

import suite  # noqa: E402

suite.choose_backend("jax")

from suite import _fresh_keras_state, pytest_report_header  # noqa: E402,F401  (this suite's hook and fixture)

BACKENDS = ("tensorflow", "jax", "torch")


def pytest_configure(config):
    suite.ignore_warnings(config, f"{suite.NUMPY_COPY_WARNING}:DeprecationWarning")
