"""The scale-out recipes of docs/scale-out.md, run as they are (docs/examples/scale_out):
each trains `common.make_model()` on devices or processes, and must end with the weights of
one device (`one_device.py`, same backend) within 1e-5.

Run in `.venv-backends` (JAX needs NumPy 2), once: `make test-scale-out`. The workers are
processes on 127.0.0.1 with free ports; each must end by itself within TIMEOUT seconds.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import numpy as np
import pytest

RECIPES = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "examples", "scale_out")
TIMEOUT = 300
TOLERANCE = 1e-5
LOCALLY_CONNECTED_WEIGHTS = (
    "sequential/locally_connected2d/kernel", "sequential/locally_connected2d/bias",
    "sequential/locally_connected1d/kernel", "sequential/locally_connected1d/bias",
)


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "TF_CONFIG", "KERAS_BACKEND")}
    env.update(TF_CPP_MIN_LOG_LEVEL="2", JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    return env


def run_processes(*argument_lists: list[str]) -> list[str]:
    """Runs the recipes together, one process each; all must exit 0 within TIMEOUT seconds."""
    processes = [
        subprocess.Popen([sys.executable, *arguments], cwd=RECIPES, env=environment(), text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for arguments in argument_lists
    ]
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=TIMEOUT)[0])
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        outputs = [process.communicate()[0] for process in processes]
        pytest.fail(f"the processes did not end within {TIMEOUT} s:\n" + "\n----\n".join(o[-3000:] for o in outputs))
    for process, output in zip(processes, outputs):
        assert process.returncode == 0, f"{process.args} exited {process.returncode}:\n{output[-5000:]}"
    return outputs


def free_ports(count: int) -> list[int]:
    """Ports nobody listens on now (held open together, so they differ)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


@pytest.fixture(scope="module")
def one_device(tmp_path_factory):
    """The one-device reference of each backend, trained on demand."""
    cache = {}

    def reference(backend: str):
        if backend not in cache:
            path = tmp_path_factory.mktemp("one_device") / f"{backend}.npz"
            run_processes(["one_device.py", "--backend", backend, "--out", str(path)])
            cache[backend] = np.load(path)
        return cache[backend]

    return reference


def assert_same_training(result, reference):
    weights = sorted(k for k in reference.files if k.startswith("weight:"))
    assert weights == sorted(k for k in result.files if k.startswith("weight:"))
    assert {f"weight:{name}" for name in LOCALLY_CONNECTED_WEIGHTS} <= set(weights)
    for key in weights:
        initial = key.replace("weight:", "initial:")
        np.testing.assert_array_equal(result[initial], reference[initial], err_msg=initial)
        # Training moved every weight, so equal finals are not equal initials.
        assert np.abs(reference[key] - reference[initial]).max() > 100 * TOLERANCE, key
        np.testing.assert_allclose(result[key], reference[key], rtol=0, atol=TOLERANCE, err_msg=key)
    np.testing.assert_allclose(result["losses"], reference["losses"], rtol=TOLERANCE)


def test_model_parallel_splits_every_kernel_over_positions_on_4_devices(tmp_path, one_device):
    path = tmp_path / "sharded.npz"
    run_processes(["model_parallel.py", "--cpu-devices", "4", "--out", str(path)])
    result = np.load(path)
    assert_same_training(result, one_device("jax"))
    # The kernels and biases, and the optimizer's momentum of each, by the weight they follow.
    owners = {f"shards:{name}": name for name in LOCALLY_CONNECTED_WEIGHTS}
    owners.update({f"shards:sgd/{name.replace('/', '_')}_momentum": name for name in LOCALLY_CONNECTED_WEIGHTS})
    assert sorted(k for k in result.files if k.startswith("shards:") and "locally_connected" in k) == sorted(owners)
    for name, weight in owners.items():
        rows = result[f"weight:{weight}"].shape[0]
        shards = result[name]  # (device, first row, end row, rows held)
        assert sorted(shards[:, 0].tolist()) == [0, 1, 2, 3], name
        # Four disjoint blocks of a quarter of the positions each, together all of them.
        blocks = sorted((int(first), int(end)) for _, first, end, _ in shards)
        assert blocks == [(i * rows // 4, (i + 1) * rows // 4) for i in range(4)], (name, blocks)
        assert (shards[:, 3] == rows // 4).all(), (name, shards)


def test_jax_data_parallel_on_2_processes(tmp_path, one_device):
    path = tmp_path / "data_parallel.npz"
    (port,) = free_ports(1)
    common = ["jax_data_parallel.py", "--coordinator", f"127.0.0.1:{port}", "--processes", "2"]
    outputs = run_processes(common + ["--process-id", "0", "--out", str(path)], common + ["--process-id", "1"])
    result = np.load(path)
    assert int(result["devices"]) == 2  # one device per process, seen by both
    assert_same_training(result, one_device("jax"))
    assert "process 1: losses" in outputs[1]


def test_tensorflow_multi_worker_custom_loop_on_2_processes(tmp_path, one_device):
    path = tmp_path / "multi_worker.npz"
    workers = ",".join(f"127.0.0.1:{port}" for port in free_ports(2))
    common = ["tf_multi_worker.py", "--workers", workers]
    outputs = run_processes(common + ["--index", "0", "--out", str(path)], common + ["--index", "1"])
    result = np.load(path)
    assert int(result["replicas"]) == 2
    assert_same_training(result, one_device("tensorflow"))
    assert "worker 1: losses" in outputs[1]
