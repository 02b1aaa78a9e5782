"""Argument standardization shared by the layers and the R-signature front door.

Values may come from R through reticulate, where every number is a double and a
vector is a list: integral floats are accepted, anything that would need rounding
is an error that names the argument. Nothing is truncated or guessed.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import keras
import numpy as np

#: tf-keras's paddings (what its files and `convert_tf_keras_weights` take).
PADDINGS = ("valid", "same")
#: The layers' paddings by name: Conv's three and flax ConvLocal's two fills of "same".
PADDING_NAMES = ("valid", "same", "causal", "circular", "reflect")
DATA_FORMATS = ("channels_last", "channels_first")
IMPLEMENTATIONS = (1, 2, 3)
#: Largest accepted integer argument: R's largest integer; tensor shapes and slices need it.
MAXIMUM_INTEGER = 2**31 - 1


def _describe(value: Any) -> str:
    return f"{value!r} (of type {type(value).__name__})"


def _as_scalar(value: Any) -> Any:
    """Unwraps 0-d and length-1 NumPy arrays so R scalars behave like numbers."""
    if isinstance(value, np.ndarray) and value.size == 1 and value.ndim <= 1:
        return value.reshape(()).item()
    if isinstance(value, np.generic):
        return value.item()
    return value


def integer(value: Any, name: str, minimum: int = 1, maximum: int | None = MAXIMUM_INTEGER) -> int:
    """Returns `value` as an `int >= minimum`; integral floats (R doubles) are accepted."""
    value = _as_scalar(value)
    accepted = f"an integer >= {minimum}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be {accepted}. Received: {name}={_describe(value)}.")
    if isinstance(value, numbers.Integral):
        result = int(value)
    else:
        if not math.isfinite(value) or value != math.floor(value):
            raise ValueError(
                f"`{name}` must be {accepted}; non-integral, NaN and infinite numbers are "
                f"not rounded. Received: {name}={value!r}."
            )
        result = int(value)
    if result < minimum:
        raise ValueError(f"`{name}` must be {accepted}. Received: {name}={result}.")
    if maximum is not None and result > maximum:
        raise ValueError(f"`{name}` must be {accepted} and <= {maximum}. Received: {name}={result}.")
    return result


def integer_tuple(value: Any, rank: int, name: str) -> tuple[int, ...]:
    """Returns `value` as a tuple of `rank` integers >= 1; a single number is repeated."""
    accepted = f"an integer or a sequence of {rank} integers, each >= 1"
    value = _as_scalar(value)
    if isinstance(value, (str, bytes, dict, set)) or value is None:
        raise TypeError(f"`{name}` must be {accepted}. Received: {name}={_describe(value)}.")
    if isinstance(value, np.ndarray):
        if value.ndim != 1:
            raise ValueError(f"`{name}` must be {accepted}. Received an array of shape {value.shape}.")
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        if len(value) != rank:
            raise ValueError(
                f"`{name}` must be {accepted}. Received {len(value)} values: {name}={value!r}."
            )
        return tuple(integer(v, name) for v in value)
    return (integer(value, name),) * rank


def choice(value: Any, name: str, options: tuple[str, ...]) -> str:
    """Returns `value` lower-cased if it is one of `options` (case-insensitive)."""
    value = _as_scalar(value)
    if not isinstance(value, str):
        raise TypeError(f"`{name}` must be one of {list(options)}. Received: {name}={_describe(value)}.")
    lowered = value.lower()
    if lowered not in options:
        raise ValueError(f"`{name}` must be one of {list(options)}. Received: {name}={value!r}.")
    return lowered


def data_format(value: Any) -> str:
    """None means `keras.config.image_data_format()`, as in every Keras layer."""
    if value is None:
        return keras.config.image_data_format()
    return choice(value, "data_format", DATA_FORMATS)


def implementation(value: Any) -> int | str:
    """1, 2 or 3 (integral numbers, as R sends them), or "auto" (case-insensitive)."""
    value = _as_scalar(value)
    accepted = f"one of {list(IMPLEMENTATIONS)} or 'auto'"
    if isinstance(value, str):
        if value.lower() != "auto":
            raise ValueError(f"`implementation` must be {accepted}. Received: implementation={value!r}.")
        return "auto"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`implementation` must be {accepted}. Received: implementation={_describe(value)}.")
    if not math.isfinite(value) or value != math.floor(value) or int(value) not in IMPLEMENTATIONS:
        raise ValueError(f"`implementation` must be {accepted}. Received: implementation={value!r}.")
    return int(value)


def boolean(value: Any, name: str) -> bool:
    value = _as_scalar(value)
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"`{name}` must be TRUE/FALSE (a bool). Received: {name}={_describe(value)}.")
    return bool(value)


def optional_integer(value: Any, name: str) -> int | None:
    return None if value is None else integer(value, name)


def shape(value: Any, name: str) -> tuple[int | None, ...]:
    """An input shape without the batch dimension: integers >= 1, None for unknown."""
    value = _as_scalar(value)
    accepted = "a sequence of integers >= 1 (None for an unknown dimension)"
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        value = [value]
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"`{name}` must be {accepted}. Received: {name}={_describe(value)}.")
    return tuple(None if v is None else integer(v, name) for v in value)


def padding(value: Any, rank: int) -> str | tuple[tuple[int, int], ...]:
    """A padding name (case-insensitive; "causal" for rank 1 only), or explicit
    `(before, after)` pairs of integers >= 0, one per spatial dimension (from R, a list of
    length-2 vectors)."""
    names = list(PADDING_NAMES if rank == 1 else [p for p in PADDING_NAMES if p != "causal"])
    accepted = f"one of {names} or a sequence of {rank} (before, after) pairs of integers >= 0"
    value = _as_scalar(value)
    if isinstance(value, str):
        lowered = value.lower()
        if lowered == "causal" and rank != 1:
            raise ValueError(
                f"`padding` = 'causal' is for 1D layers only (Conv1D's), not for {rank} spatial "
                f"dimensions: `padding` must be {accepted}. Received: padding={value!r}."
            )
        if lowered not in names:
            raise ValueError(f"`padding` must be {accepted}. Received: padding={value!r}.")
        return lowered
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"`padding` must be {accepted}. Received: padding={_describe(value)}.")
    pairs = [np.asarray(pair).tolist() if isinstance(pair, np.ndarray) else _as_scalar(pair) for pair in value]
    if len(pairs) != rank or not all(isinstance(pair, (list, tuple)) and len(pair) == 2 for pair in pairs):
        raise ValueError(f"`padding` must be {accepted}. Received: padding={value!r}.")
    return tuple((integer(before, "padding", minimum=0), integer(after, "padding", minimum=0))
                 for before, after in pairs)


def named_locals(frame_locals: dict) -> dict:
    """A subclass __init__'s named arguments (its `locals()`), to pass on to the base
    class, which standardizes them: everything but `self`, `kwargs` and `__class__`."""
    return {k: v for k, v in frame_locals.items() if k not in ("self", "kwargs", "__class__")}
