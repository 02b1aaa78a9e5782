"""Implementation 1 with each backend's own patch builder instead of ours: PyTorch
`F.unfold`, JAX `lax.conv_general_dilated_patches`, TensorFlow `tf.image.extract_patches`.

Same kernel layout and same maths as implementation 1 (`implementations.Patches`) (the kernel's rows are
reordered to the builder's feature order, as ours does for channels_first): bench/backends.py
times it next to ours as the variant "ours 1, native patches". It is not in the package: it
lost on every case where "auto" would run implementation 1 (docs/performance.md).
"""

from __future__ import annotations

import keras
from keras import ops

from locally_connected.geometry import Geometry


def supports(rank: int) -> bool:
    """F.unfold and tf.image.extract_patches take images only; 1D runs as a 1-row image."""
    backend = keras.backend.backend()
    return backend == "jax" or (backend == "torch" and rank <= 2) or (backend == "tensorflow" and rank == 2)


def _patches(inputs, geometry: Geometry, channels_first: bool):
    """`(positions, batch, features)` patches, and whether features are `(taps, channels)`
    (else `(channels, taps)`)."""
    rank, backend = len(geometry.input_size), keras.backend.backend()
    pads = list(zip(geometry.pad_before, geometry.pad_after))
    if backend == "torch":
        import torch
        import torch.nn.functional as F

        images = inputs if channels_first else torch.movedim(inputs, -1, 1)
        if rank == 1:
            images, pads = images.unsqueeze(-1), pads + [(0, 0)]
        flat_pads = [p for pair in reversed(pads) for p in pair]  # last dimension first
        if any(flat_pads):
            images = F.pad(images, flat_pads)
        extend = (1,) * (2 - rank)
        patches = F.unfold(images, geometry.kernel_size + extend, stride=geometry.strides + extend)
        return patches.permute(2, 0, 1), False
    if backend == "jax":
        import jax

        spatial = "DHW"[3 - rank:]
        layout = ("NC" + spatial) if channels_first else ("N" + spatial + "C")
        patches = jax.lax.conv_general_dilated_patches(
            inputs, geometry.kernel_size, geometry.strides, pads,
            dimension_numbers=(layout, "OI" + spatial, "N" + spatial + "C"))
        return ops.transpose(ops.reshape(patches, (-1, geometry.num_outputs, patches.shape[-1])), (1, 0, 2)), False
    import tensorflow as tf

    images = tf.transpose(inputs, (0, 2, 3, 1)) if channels_first else inputs
    if any(p != (0, 0) for p in pads):
        images = tf.pad(images, [(0, 0)] + pads + [(0, 0)])
    patches = tf.image.extract_patches(images, (1,) + geometry.kernel_size + (1,), (1,) + geometry.strides + (1,),
                                       (1, 1, 1, 1), "VALID")
    return tf.transpose(tf.reshape(patches, (-1, geometry.num_outputs, patches.shape[-1])), (1, 0, 2)), True


def native_patches_matmul(inputs, kernel, geometry: Geometry, channels_first: bool):
    """`(batch, positions, filters)`, as implementation 1 (`implementations.Patches`) returns."""
    patches, taps_major = _patches(inputs, geometry, channels_first)
    kernel_taps_major = not channels_first
    if taps_major != kernel_taps_major:
        outputs, features, filters = kernel.shape
        rows = (geometry.num_taps, features // geometry.num_taps)
        kernel = ops.reshape(kernel, (outputs,) + (rows if kernel_taps_major else rows[::-1]) + (filters,))
        kernel = ops.reshape(ops.transpose(kernel, (0, 2, 1, 3)), (outputs, features, filters))
    return ops.transpose(ops.matmul(patches, kernel), (1, 0, 2))


def native_patches_layer(layer_class: type, *args, **kwargs):
    """A layer of `layer_class` (implementation 1) whose patches come from the backend's builder."""

    class NativePatches(layer_class):
        def call(self, inputs):
            outputs = native_patches_matmul(inputs, self.kernel, self._plan.geometry, self._channels_first)
            return self._in_output_layout(outputs)

    return NativePatches(*args, implementation=1, **kwargs)
