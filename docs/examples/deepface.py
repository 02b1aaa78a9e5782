"""DeepFace (Taigman et al., 2014) as serengil/deepface builds it, in Keras 3 with locally_connected.

deepface pins TensorFlow <= 2.12 for this model because Keras 3 has no LocallyConnected2D.
The same network built with `locally_connected.LocallyConnected2D` reads deepface's weights
file (written by Keras 2's `save_weights`) with plain `model.load_weights()`:

    python deepface.py VGGFace2_DeepFace_weights_val-0.9034.h5   # the public weights
    python deepface.py --self-check [--input-size 152]           # no download needed

`--self-check` writes a weights file with tf-keras for the same network, loads it into the
Keras 3 model, and compares the embeddings (the 4096 outputs of layer F7) of random images.
"""

from __future__ import annotations

import argparse
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def deepface_model(keras_module, locally_connected_2d, input_size: int = 152, classes: int = 8631):
    """The DeepFace network with deepface's layer names, from `keras_module`'s layers
    (Keras 3 or tf-keras) and the given LocallyConnected2D class."""
    layers = keras_module.layers
    return keras_module.Sequential([
        keras_module.Input((input_size, input_size, 3)),
        layers.Conv2D(32, (11, 11), activation="relu", name="C1"),
        layers.MaxPooling2D(pool_size=3, strides=2, padding="same", name="M2"),
        layers.Conv2D(16, (9, 9), activation="relu", name="C3"),
        locally_connected_2d(16, (9, 9), activation="relu", name="L4"),
        locally_connected_2d(16, (7, 7), strides=2, activation="relu", name="L5"),
        locally_connected_2d(16, (5, 5), activation="relu", name="L6"),
        layers.Flatten(name="F0"),
        layers.Dense(4096, activation="relu", name="F7"),
        layers.Dropout(rate=0.5, name="D0"),
        layers.Dense(classes, activation="softmax", name="F8"),
    ])


def embedding_model(keras_module, model):
    """deepface's embedding: the output of F7 (the third layer from the end)."""
    return keras_module.Model(model.inputs, model.get_layer("F7").output)


def keras3_deepface(weights_path: str, input_size: int = 152):
    """The Keras 3 DeepFace model with the weights of a Keras 2 / tf-keras weights file."""
    import keras

    from locally_connected import LocallyConnected2D

    model = deepface_model(keras, LocallyConnected2D, input_size)
    model.load_weights(weights_path)
    return model


def tf_keras_weights_file(path: str, input_size: int = 152, seed: int = 0):
    """Writes the weights of a tf-keras DeepFace with random weights to `path`; returns the model.

    The weights are He-scaled normals (kernels) and small normals (biases), so that every
    layer's activations stay of order one and the embeddings are worth comparing
    (glorot_uniform's defaults shrink them to about 1e-3 through the unshared layers).
    """
    import numpy as np
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    model = deepface_model(tf_keras, tf_keras.layers.LocallyConnected2D, input_size)
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if not layer.weights:
            continue
        kernel, bias = layer.get_weights()
        fan_in = kernel.shape[1] if kernel.ndim == 3 else int(np.prod(kernel.shape[:-1]))
        layer.set_weights([
            (rng.standard_normal(kernel.shape) * np.sqrt(2.0 / fan_in)).astype("float32"),
            (rng.standard_normal(bias.shape) * 0.1).astype("float32"),
        ])
    model.save_weights(path)
    return model


def self_check(input_size: int = 152, batch: int = 2) -> tuple[float, float]:
    """Compares tf-keras's and Keras 3's DeepFace embeddings of random images.

    Returns the largest absolute difference and the largest embedding value.
    """
    import keras
    import numpy as np
    import tf_keras

    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "deepface.h5")
        reference = tf_keras_weights_file(path, input_size)
        ours = keras3_deepface(path, input_size)
    images = np.random.default_rng(0).uniform(size=(batch, input_size, input_size, 3)).astype("float32")
    expected = embedding_model(tf_keras, reference).predict(images, verbose=0)
    received = embedding_model(keras, ours).predict(images, verbose=0)
    return float(np.max(np.abs(expected - received))), float(np.max(np.abs(expected)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("weights", nargs="?", help="deepface's DeepFace weights file (.h5)")
    parser.add_argument("--self-check", action="store_true")
    parser.add_argument("--input-size", type=int, default=152)
    args = parser.parse_args()
    if args.self_check:
        difference, largest = self_check(args.input_size)
        print(f"DeepFace embeddings (layer F7), {args.input_size}x{args.input_size}: largest value "
              f"{largest:.4g}, largest difference tf-keras vs Keras 3 {difference:.3g}")
    elif args.weights:
        model = keras3_deepface(args.weights, args.input_size)
        model.summary()
    else:
        parser.error("give a weights file or --self-check")


if __name__ == "__main__":
    main()
