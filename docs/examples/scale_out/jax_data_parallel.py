"""Data parallel over several processes (JAX): every process trains on its slice of each
global batch, and JAX's collectives keep the weights identical everywhere.

Start one process per host (or several on one host, as here), with the same coordinator:

    python jax_data_parallel.py --coordinator 127.0.0.1:12345 --processes 2 --process-id 0 --out w.npz &
    python jax_data_parallel.py --coordinator 127.0.0.1:12345 --processes 2 --process-id 1

On CPUs the collectives are gloo's. Process 0 writes the trained weights.
"""

import argparse
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--coordinator", required=True, help="host:port of process 0")
parser.add_argument("--processes", type=int, required=True)
parser.add_argument("--process-id", type=int, required=True)
parser.add_argument("--out", help="where process 0 writes the trained weights (.npz)")
args = parser.parse_args()
os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import common  # noqa: E402

keras.distribution.initialize(args.coordinator, num_processes=args.processes, process_id=args.process_id)
# One replica per device of every process. Each process feeds its own slice of the data
# (auto_shard_dataset=False), as arrays or as any dataset.
keras.distribution.set_distribution(
    keras.distribution.DataParallel(devices=keras.distribution.list_devices(), auto_shard_dataset=False))

model = common.make_model()
# Replicated weights: any device's copy is the whole value.
values = lambda: {v.path: np.asarray(v.value.addressable_data(0)) for v in model.weights}  # noqa: E731
initial = values()
x, y = common.make_data()
local_x = common.worker_slice(x, args.process_id, args.processes)
local_y = common.worker_slice(y, args.process_id, args.processes)
losses = common.compile_and_fit(model, local_x, local_y, batch_size=common.GLOBAL_BATCH // args.processes)
if args.process_id == 0 and args.out:
    common.save_weights(args.out, values(), initial=initial, losses=losses,
                        devices=np.array(len(jax.devices())))
print(f"process {args.process_id}: losses {losses}")
