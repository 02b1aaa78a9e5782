"""Data parallel over several processes (TensorFlow): `tf.distribute.MultiWorkerMirroredStrategy`
with a custom training loop. Keras 3's `model.fit` does not run under this strategy
(keras-team/keras#20585); `strategy.run` and `strategy.reduce` do.

Start one process per worker, each with the whole worker list and its own index:

    python tf_multi_worker.py --workers 127.0.0.1:12345,127.0.0.1:12346 --index 0 --out w.npz &
    python tf_multi_worker.py --workers 127.0.0.1:12345,127.0.0.1:12346 --index 1

Worker 0 writes the trained weights.
"""

import argparse
import json
import os

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--workers", required=True, help="host:port of every worker, comma-separated")
parser.add_argument("--index", type=int, required=True, help="this worker's place in --workers")
parser.add_argument("--out", help="where worker 0 writes the trained weights (.npz)")
args = parser.parse_args()
os.environ["KERAS_BACKEND"] = "tensorflow"
# What the strategy reads to find its peers (usually set by the cluster manager).
os.environ["TF_CONFIG"] = json.dumps({
    "cluster": {"worker": args.workers.split(",")},
    "task": {"type": "worker", "index": args.index},
})

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import common  # noqa: E402

strategy = tf.distribute.MultiWorkerMirroredStrategy()
with strategy.scope():
    model = common.make_model()
    optimizer = common.make_optimizer()
initial = {v.path: v.numpy() for v in model.weights}
x, y = common.make_data()


def worker_dataset(context: tf.distribute.InputContext) -> tf.data.Dataset:
    """This worker's slice of every global batch, in order."""
    worker, workers = context.input_pipeline_id, context.num_input_pipelines
    local = (common.worker_slice(x, worker, workers), common.worker_slice(y, worker, workers))
    return tf.data.Dataset.from_tensor_slices(local).batch(context.get_per_replica_batch_size(common.GLOBAL_BATCH))


@tf.function
def train_step(inputs, targets):
    def replica_step(inputs, targets):
        with tf.GradientTape() as tape:
            per_sample = keras.losses.mean_squared_error(targets, model(inputs, training=True))
            # Divided by the global batch: the optimizer sums the replicas' gradients.
            loss = tf.reduce_sum(per_sample) / common.GLOBAL_BATCH
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss

    return strategy.reduce("SUM", strategy.run(replica_step, args=(inputs, targets)), axis=None)


losses = []
for _epoch in range(common.EPOCHS):
    batches = [float(train_step(*batch)) for batch in strategy.distribute_datasets_from_function(worker_dataset)]
    losses.append(float(np.mean(batches)))
if args.index == 0 and args.out:
    common.save_weights(args.out, {v.path: v.numpy() for v in model.weights}, initial=initial, losses=losses,
                        replicas=np.array(strategy.num_replicas_in_sync))
print(f"worker {args.index}: losses {losses}")
