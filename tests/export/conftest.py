"""Configuration of the export suite (tests/export), run once per Keras backend in the
`.venv-export` environment (the backends plus every exporter and runtime):

    KERAS_BACKEND=torch .venv-export/bin/python -m pytest tests/export
"""

import os
import sys

# The helpers and oracles shared by the suites (tests/support), this conftest's among them.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))

import suite  # noqa: E402

suite.choose_backend("tensorflow")

from suite import _fresh_keras_state, pytest_report_header  # noqa: E402,F401  (this suite's hook and fixture)


def pytest_configure(config):
    suite.ignore_warnings(
        config,
        suite.NUMPY_COPY_WARNING,
        # The exporters' own notices about their inputs, not about this package.
        "You are saving your model as an HDF5 file",
    )
