"""Trains a locally connected model on scikit-learn's handwritten digits (8x8 images)
and an equal-size Conv2D model beside it, then prints both test accuracies."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from locally_connected import layer_locally_connected_2d  # noqa: E402


def build(first_layer: keras.layers.Layer) -> keras.Model:
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        first_layer,
        keras.layers.Flatten(),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def main() -> None:
    keras.utils.set_random_seed(42)
    digits = load_digits()
    x = (digits.images / 16.0).astype("float32")[..., None]
    x_train, x_test, y_train, y_test = train_test_split(
        x, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    models = {
        "LocallyConnected2D": build(layer_locally_connected_2d(filters=16, kernel_size=3, activation="relu")),
        "Conv2D": build(keras.layers.Conv2D(16, 3, activation="relu")),
    }
    accuracies = {}
    for name, model in models.items():
        print(f"\n== {name}: {model.count_params():,} parameters")
        model.fit(x_train, y_train, epochs=15, batch_size=32, validation_split=0.1, verbose=1)
        accuracies[name] = model.evaluate(x_test, y_test, verbose=0)[1]
    print(f"\nTest accuracy on {len(y_test)} held-out digits:")
    for name, accuracy in accuracies.items():
        print(f"  {name:<20} {accuracy:.4f}  ({models[name].count_params():,} parameters)")
    assert np.isfinite(list(accuracies.values())).all()


if __name__ == "__main__":
    main()
