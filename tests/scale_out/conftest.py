"""The scale-out suite runs in `.venv-backends` under JAX, with the CPU split into 4
devices before JAX starts (the recipes it launches choose their own backend and devices)."""

import os

os.environ["KERAS_BACKEND"] = "jax"
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
