import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402,F401  (imported after KERAS_BACKEND is set)
import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_inputs(rng, shape):
    return rng.standard_normal(shape).astype("float32")


def input_shape(spatial, channels, data_format):
    """Full input shape without batch for a spatial size, channel count and data format."""
    if data_format == "channels_first":
        return (channels,) + tuple(spatial)
    return tuple(spatial) + (channels,)


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
