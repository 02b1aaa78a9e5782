"""Model parallel (JAX): every locally connected kernel and bias split over output positions.

    python model_parallel.py --cpu-devices 4 --out sharded.npz

On a machine with several accelerators, leave out --cpu-devices: the mesh takes every
device JAX sees. On a CPU, --cpu-devices N makes N virtual devices to try it. The model is
`common.make_model()`; each device holds 1/N of each locally connected kernel.
"""

import argparse
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--out", required=True, help="where to write the trained weights (.npz)")
parser.add_argument("--cpu-devices", type=int, help="virtual CPU devices to make (testing on a CPU)")
args = parser.parse_args()

os.environ["KERAS_BACKEND"] = "jax"
if args.cpu_devices:
    # Before JAX starts: split the CPU into this many devices.
    os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.cpu_devices}"

import keras  # noqa: E402
import numpy as np  # noqa: E402

import locally_connected.distribution  # noqa: E402

import common  # noqa: E402

devices = keras.distribution.list_devices()
mesh = keras.distribution.DeviceMesh((1, len(devices)), ("batch", "model"), devices)
layouts = keras.distribution.LayoutMap(mesh)
layouts[".*dense.*kernel"] = ("model", None)  # the user's own entries, if any
locally_connected.distribution.layout_map(mesh, axis="model", into=layouts)
keras.distribution.set_distribution(keras.distribution.ModelParallel(layout_map=layouts, batch_dim_name="batch"))

model = common.make_model()
initial = {v.path: np.asarray(v.value) for v in model.weights}
x, y = common.make_data()
losses = common.compile_and_fit(model, x, y, batch_size=common.GLOBAL_BATCH)

# What each device holds of each weight and optimizer slot:
# (device id, first row, end row, rows held).
shards = {
    f"shards:{v.path}": np.array([
        (shard.device.id, shard.index[0].start or 0, shard.index[0].stop or v.shape[0], shard.data.shape[0])
        for shard in v.value.addressable_shards
    ])
    for v in model.weights + model.optimizer.variables if len(v.shape)
}
common.save_weights(args.out, {v.path: np.asarray(v.value) for v in model.weights},
                    initial=initial, losses=losses, **shards)
for v in model.weights + model.optimizer.variables:
    print(v.path, v.shape, "sharded as", v.value.sharding.spec)
