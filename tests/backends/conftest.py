"""Configuration of the multi-backend suite (tests/backends), run once per Keras backend in
the `.venv-backends` environment (NumPy 2, JAX, PyTorch, TensorFlow):

    KERAS_BACKEND=jax .venv-backends/bin/python -m pytest tests/backends

KERAS_BACKEND must be chosen before Keras is imported; without it this suite uses JAX.
Nothing here imports TensorFlow: on the JAX and PyTorch backends the package must work
without it.
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import pytest  # noqa: E402

# The helpers and oracles shared by the suites (tests/support).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))

BACKENDS = ("tensorflow", "jax", "torch")


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the same global state (seeds, names, policy)."""
    keras.backend.clear_session()
    yield


def pytest_configure(config):
    # Keras 3.15.1's variables call np.array(self) without `copy`, which NumPy 2 reports
    # on every weight read: noise from Keras, not from this package.
    config.addinivalue_line(
        "filterwarnings",
        "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning",
    )
