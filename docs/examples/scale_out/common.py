"""The model, data and training that every scale-out recipe here shares, so that each
recipe's trained weights can be compared with one device's (tests/scale_out)."""

from __future__ import annotations

import keras
import numpy as np

from locally_connected import LocallyConnected1D, LocallyConnected2D

INPUT_SHAPE = (8, 8, 3)
SAMPLES = 64
GLOBAL_BATCH = 16
EPOCHS = 2
LEARNING_RATE = 0.05
MOMENTUM = 0.9  # a slot per weight, which the optimizer lays out like the weight
SEED = 1


def make_model() -> keras.Model:
    """Two locally connected layers, 2D then 1D: 64 and 16 output positions."""
    keras.utils.set_random_seed(SEED)
    return keras.Sequential([
        keras.Input(INPUT_SHAPE),
        LocallyConnected2D(6, 3, padding="same", activation="tanh"),
        keras.layers.Reshape((64, 6)),
        LocallyConnected1D(4, 4, strides=4, activation="tanh"),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])


def make_data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES,) + INPUT_SHAPE).astype("float32")
    y = rng.standard_normal((SAMPLES, 2)).astype("float32")
    return x, y


def worker_slice(array: np.ndarray, worker: int, workers: int) -> np.ndarray:
    """Worker `worker`'s rows of every global batch: batch b of the one-device run is
    the concatenation, in worker order, of batch b of every worker."""
    local = GLOBAL_BATCH // workers
    batches = array.reshape((-1, GLOBAL_BATCH) + array.shape[1:])
    return batches[:, worker * local:(worker + 1) * local].reshape((-1,) + array.shape[1:])


def make_optimizer() -> keras.optimizers.Optimizer:
    return keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM)


def compile_and_fit(model: keras.Model, x: np.ndarray, y: np.ndarray, batch_size: int) -> list[float]:
    model.compile(optimizer=make_optimizer(), loss="mse")
    history = model.fit(x, y, batch_size=batch_size, epochs=EPOCHS, shuffle=False, verbose=0)
    return history.history["loss"]


def save_weights(path: str, weights: dict[str, np.ndarray], initial: dict[str, np.ndarray],
                 losses: list[float], **extra: np.ndarray) -> None:
    """Trained and initial weights by variable path, the losses, and what else the recipe records."""
    np.savez(
        path,
        **{f"weight:{name}": value for name, value in weights.items()},
        **{f"initial:{name}": value for name, value in initial.items()},
        losses=np.array(losses),
        **extra,
    )
