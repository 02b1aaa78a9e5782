import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402,F401  (imported after KERAS_BACKEND is set)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

# The helpers and oracles shared by the suites (tests/support).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "support"))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


_exit_status = None


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    global _exit_status
    _exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # A session that embedded R ends through r_session.exit_process: reticulate 1.28's
    # polling thread cannot survive the interpreter's teardown (see r_session).
    import r_session

    if r_session.started() and _exit_status is not None:
        r_session.exit_process(_exit_status)
