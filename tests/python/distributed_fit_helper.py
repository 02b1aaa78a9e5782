"""Helper for test_engines.py (not a test module): trains the same small models under
`tf.distribute.MirroredStrategy` over two logical CPU devices and on one device, and
writes both sets of final weights to the .npz file named on the command line.

Run in its own process: the logical devices must be configured before TensorFlow
initialises its devices, which any earlier TensorFlow use in a pytest process has done.

    python distributed_fit_helper.py OUT.npz
"""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ["KERAS_BACKEND"] = "tensorflow"

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])

import keras  # noqa: E402

from locally_connected import LocallyConnected1D, LocallyConnected2D  # noqa: E402

CASES = {
    # name: (layer factory, input shape without batch)
    "2d_impl1": (lambda: LocallyConnected2D(3, 3, strides=2, padding="same", implementation=1), (6, 6, 2)),
    "2d_impl2": (lambda: LocallyConnected2D(3, (2, 3), implementation=2, data_format="channels_first"),
                 (2, 5, 6)),
    "2d_impl3": (lambda: LocallyConnected2D(3, 3, implementation=3), (6, 6, 2)),
    "1d_impl1": (lambda: LocallyConnected1D(2, 3, strides=2, padding="same", implementation=1), (9, 2)),
}


def train(strategy, factory, shape, x, y):
    with strategy.scope():
        keras.utils.set_random_seed(42)
        model = keras.Sequential([
            keras.Input(shape),
            factory(),
            keras.layers.Flatten(),
            keras.layers.Dense(1),
        ])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    initial = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return initial, model.get_weights(), history.history["loss"]


def main(path):
    devices = [d.name for d in tf.config.list_logical_devices("CPU")]
    mirrored = tf.distribute.MirroredStrategy(devices)
    assert mirrored.num_replicas_in_sync == 2, mirrored.num_replicas_in_sync
    results = {"num_replicas": np.array(mirrored.num_replicas_in_sync)}
    rng = np.random.default_rng(0)
    for name, (factory, shape) in CASES.items():
        x = rng.standard_normal((32,) + shape).astype("float32")
        y = rng.standard_normal((32, 1)).astype("float32")
        for label, strategy in (("mirrored", mirrored), ("one", tf.distribute.get_strategy())):
            initial, final, losses = train(strategy, factory, shape, x, y)
            for i, (w0, w1) in enumerate(zip(initial, final)):
                results[f"{name}/{label}/initial/{i}"] = w0
                results[f"{name}/{label}/final/{i}"] = w1
            results[f"{name}/{label}/loss"] = np.array(losses)
    np.savez(path, **results)


if __name__ == "__main__":
    main(sys.argv[1])
