"""Configuration of the inference-only backends' suite (tests/inference): Keras' `numpy`
backend (in `.venv-backends`) and its `openvino` backend (in `.venv-export`, which has
OpenVINO):

    KERAS_BACKEND=numpy .venv-backends/bin/python -m pytest tests/inference
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "numpy")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import pytest  # noqa: E402

# The helpers and oracles shared by the suites (tests/support).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


def pytest_configure(config):
    for message in (
        # Both backends say that custom_gradient (implementation 1's) only runs forward.
        "`custom_gradient` for the",
        "__array__ implementation doesn't accept a copy keyword",
    ):
        config.addinivalue_line("filterwarnings", f"ignore:{message}")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.backend.clear_session()
    yield
