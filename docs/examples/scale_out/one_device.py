"""The reference for the scale-out recipes: the same model, data and batches on one device.

    python one_device.py --backend jax --out reference.npz
"""

import argparse
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", required=True, help="where to write the trained weights (.npz)")
parser.add_argument("--backend", required=True, choices=["jax", "tensorflow", "torch"])
args = parser.parse_args()
os.environ["KERAS_BACKEND"] = args.backend

import keras  # noqa: E402

import common  # noqa: E402

model = common.make_model()
initial = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
x, y = common.make_data()
losses = common.compile_and_fit(model, x, y, batch_size=common.GLOBAL_BATCH)
common.save_weights(args.out, {v.path: keras.ops.convert_to_numpy(v) for v in model.weights},
                    initial=initial, losses=losses)
