"""Configuration of the export suite (tests/export), run once per Keras backend in the
`.venv-export` environment (the backends plus every exporter and runtime):

    KERAS_BACKEND=torch .venv-export/bin/python -m pytest tests/export
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import pytest  # noqa: E402

# The helpers and oracles shared by the suites (tests/support).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    keras.backend.clear_session()
    yield


def pytest_configure(config):
    for message in (
        # Keras 3.15.1's variables call np.array(self) without `copy` (NumPy 2).
        "__array__ implementation doesn't accept a copy keyword",
        # The exporters' own notices about their inputs, not about this package.
        "You are saving your model as an HDF5 file",
    ):
        config.addinivalue_line("filterwarnings", f"ignore:{message}")
