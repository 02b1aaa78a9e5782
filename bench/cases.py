"""The benchmark grid and the estimates that keep hopeless runs out of it."""

import math

import numpy as np

GRID = [
    # name, batch, spatial, channels, kernel, strides, filters, data_format
    ("b128_8x8x4_k3_f8", 128, (8, 8), 4, 3, 1, 8, "channels_last"),
    ("b32_28x28x1_k5_f8", 32, (28, 28), 1, 5, 1, 8, "channels_last"),
    ("b64_32x32x16_k3_f32", 64, (32, 32), 16, 3, 1, 32, "channels_last"),
    ("b256_16x16x32_k3_f64", 256, (16, 16), 32, 3, 1, 64, "channels_last"),
    ("b16_64x64x8_k3_f16", 16, (64, 64), 8, 3, 1, 16, "channels_last"),
    ("b64_1d_256x16_k5_f32", 64, (256,), 16, 5, 1, 32, "channels_last"),
    ("b64_32x32x16_k3_s2_f32", 64, (32, 32), 16, 3, 2, 32, "channels_last"),
    ("b64_cf_16x24x24_k3_f16", 64, (24, 24), 16, 3, 1, 16, "channels_first"),
]


def _case(batch, spatial, channels, kernel, strides, filters, data_format) -> dict:
    rank = len(spatial)
    kernel, strides = (kernel,) * rank, (strides,) * rank
    output = tuple((n - k) // s + 1 for n, k, s in zip(spatial, kernel, strides))
    features = math.prod(kernel) * channels
    positions = math.prod(output)
    shape = ((batch, channels) + spatial) if data_format == "channels_first" else ((batch,) + spatial + (channels,))
    return {
        "batch": batch, "spatial": spatial, "channels": channels, "kernel": kernel,
        "strides": strides, "filters": filters, "data_format": data_format,
        "input_shape": shape, "output": output, "positions": positions, "features": features,
        # Multiply-adds of the unshared product, forward only; a training step does 3x.
        "flops": 2 * batch * positions * features * filters,
        "dense_entries": math.prod(spatial) * channels * positions * filters,
        "nonzeros": positions * features * filters,
    }


CASES = {name: _case(*rest) for name, *rest in GRID}

# DeepFace's L4 layer (kernel 2809x144x16, 24.7 MiB), which tf-keras users ran with
# implementation 3 to save memory: the backends bench times it and measures every variant's
# peak memory on it. Its dense kernel (2.2G entries) rules implementation 2 out.
L4_GRID = [
    ("b16_l4_55x55x16_k3_f16", 16, (55, 55), 16, 3, 1, 16, "channels_last"),
    ("b64_l4_55x55x16_k3_f16", 64, (55, 55), 16, 3, 1, 16, "channels_last"),
]
L4_CASES = {name: _case(*rest) for name, *rest in L4_GRID}

# Measured here (REFERENCE.md §3): tf-keras impl 3 builds ~57k index tuples/s in Python;
# tf-keras impl 1 needs ~13 ms of tracing per output position for a training step.
TF_KERAS_IMPL3_TUPLES_PER_S = 57_000
TF_KERAS_IMPL1_TRACE_S_PER_POSITION = 0.013
TIME_LIMIT_S = 120
MEMORY_LIMIT_GB = 4.0


def skip_reason(case: dict, library: str, implementation) -> str | None:
    """Why a measurement would take more than minutes or gigabytes, or None."""
    if implementation == 2:
        # The dense kernel, the masked copy (tf-keras) and its gradient.
        copies = 3 if library == "tf_keras" else 2
        gigabytes = case["dense_entries"] * 4 * copies / 1e9
        if gigabytes > MEMORY_LIMIT_GB:
            return f"needs ~{gigabytes:.0f} GB (dense kernel {case['dense_entries'] * 4 / 1e9:.1f} GB)"
    if library == "tf_keras" and implementation == 3:
        seconds = case["nonzeros"] / TF_KERAS_IMPL3_TUPLES_PER_S
        if seconds > TIME_LIMIT_S:
            return f"build ~{seconds / 60:.0f} min ({case['nonzeros'] / 1e6:.1f}M index tuples in Python)"
    if library == "tf_keras" and implementation == 1:
        seconds = case["positions"] * TF_KERAS_IMPL1_TRACE_S_PER_POSITION
        if seconds > TIME_LIMIT_S:
            return f"first step ~{seconds / 60:.0f} min ({case['positions']} traced slices)"
    return None


def matmul_operands(case: dict, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Ready-made float32 patches `(positions, batch, features)` and a kernel
    `(positions, features, filters)`, as implementation 1 multiplies them."""
    patches = rng.standard_normal((case["positions"], case["batch"], case["features"]))
    kernel = rng.standard_normal((case["positions"], case["features"], case["filters"]))
    return patches.astype("float32"), kernel.astype("float32")
