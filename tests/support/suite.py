"""What the per-backend suites' conftests share (tests/backends, tests/export,
tests/inference): the backend chosen before Keras is imported, the report header, a fresh
Keras state for every test, and the warnings that are other libraries' noise.

Import it before Keras and call `choose_backend` first: this module imports Keras only
inside its functions.
"""

from __future__ import annotations

import os

import pytest

#: Keras 3.15.1's variables call np.array(self) without `copy`, which NumPy 2 reports on
#: every weight read: noise from Keras, not from this package.
NUMPY_COPY_WARNING = "__array__ implementation doesn't accept a copy keyword"


def choose_backend(default: str) -> None:
    """KERAS_BACKEND (unless set already), TensorFlow's logs quiet, JAX on the CPU."""
    os.environ.setdefault("KERAS_BACKEND", default)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


def pytest_report_header(config):
    import keras

    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Every test starts from the same global state (seeds, names, policy)."""
    import keras

    keras.backend.clear_session()
    yield


def ignore_warnings(config, *messages: str) -> None:
    """Filters out warnings whose message starts with one of `messages`
    (`message:Category` to match one category only)."""
    for message in messages:
        config.addinivalue_line("filterwarnings", f"ignore:{message}")
