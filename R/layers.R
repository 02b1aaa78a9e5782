#' Locally connected layer for 2D inputs (images)
#'
#' Works like `keras3::layer_conv_2d()`, except that the weights are
#' unshared: every output position has its own filters. The signature is R keras
#' 2.x's (argument names, order and defaults), and the function composes with keras3
#' models, tensors and pipes like keras3's own layer functions.
#'
#' @param object What to compose the new layer with. Missing or `NULL`: the layer is
#'   returned. A Sequential model: the layer is added to it (in place) and the model
#'   is returned invisibly. A tensor (e.g. from `keras3::keras_input()`) or an array:
#'   the layer's output for it is returned.
#' @param filters Integer, the number of output channels.
#' @param kernel_size An integer or a vector of 2 integers: height and width of the
#'   window. One integer is used for both dimensions.
#' @param strides An integer or a vector of 2 integers: the step of the window along
#'   height and width.
#' @param padding `"valid"` (no padding), `"same"` (pads like
#'   `keras3::layer_conv_2d()`: the output has `ceiling(input / strides)` positions),
#'   `"circular"` or `"reflect"` (the amounts of `"same"`, filled by wrapping around or
#'   mirroring), case-insensitive; or explicit padding, a list of one `c(before, after)`
#'   pair per spatial dimension, e.g. `list(c(1, 2), c(0, 1))`.
#' @param data_format `"channels_last"` (inputs `(batch, height, width, channels)`)
#'   or `"channels_first"` (inputs `(batch, channels, height, width)`). `NULL` uses
#'   Keras' `image_data_format()`, `"channels_last"` unless configured otherwise.
#' @param activation Activation function (a name such as `"relu"`, or a function).
#'   `NULL` applies none.
#' @param use_bias `TRUE` or `FALSE`: whether the layer has a bias for every output
#'   position and filter.
#' @param kernel_initializer,bias_initializer Initializers of the kernel and the bias
#'   (names such as `"glorot_uniform"`, or Keras initializer objects).
#' @param kernel_regularizer,bias_regularizer,activity_regularizer Regularizers of the
#'   kernel, the bias and the layer's output, or `NULL`.
#' @param kernel_constraint,bias_constraint Constraints of the kernel and the bias, or
#'   `NULL`.
#' @param implementation `1L`, `2L`, `3L` or `"auto"`. All compute the same function
#'   from the same weights; they differ in speed and memory. `1`: patches and one
#'   batched matrix product (the default; it runs `3`'s product where that is faster:
#'   channels_first inputs on the PyTorch and TensorFlow backends, and channels_last ones on
#'   PyTorch, uncompiled, and on TensorFlow without XLA). `2`: one product with a dense,
#'   mostly zero matrix (fast for small layers; refused with an error when that matrix
#'   would exceed the budget). `3`: a block-sparse product that keeps no
#'   patches (the least training memory). `"auto"`: chosen from the shapes, the
#'   batch size (`batch_size`, else 32, Keras' default) and the Keras backend when the
#'   layer is built, and saved with the model.
#' @param batch_size Fixed batch size. With `input_shape`, the layer starts a model
#'   whose batch dimension is `batch_size`; inputs of another batch size are an error.
#' @param name Name of the layer, unique in a model; generated when `NULL`.
#' @param trainable Whether the weights are updated by training; `NULL` keeps Keras'
#'   default (`TRUE`).
#' @param weights Initial weights: `list(kernel, bias)` (or `list(kernel)` without
#'   bias). `kernel` has dimensions `c(output positions, prod(kernel_size) * channels /
#'   groups, filters)` (one kernel per block with `weight_sharing`) and `bias`
#'   `c(output rows, output cols, filters)` (blocks with `weight_sharing`); they are set
#'   when the layer is built.
#' @param dilation_rate An integer or a vector of 2 integers: the spacing of the window's
#'   taps, as in `keras3::layer_conv_2d()`; any `strides` may go with it.
#' @param groups An integer dividing the input channels and `filters`: filter `f` reads
#'   the channels of group `f %/% (filters / groups)`, as in `keras3::layer_conv_2d()`.
#' @param weight_sharing An integer or a vector of 2 integers: output positions are
#'   grouped in blocks of this size (row-major, the last block of a dimension may be
#'   smaller), each block with one kernel and one bias. `1` gives every position its own
#'   (the default); a block covering the whole output is a convolution.
#' @param ... `input_shape` (the input's shape without the batch dimension, so the
#'   layer can start a Sequential model) and `dtype` (e.g. `"float64"` or
#'   `"mixed_float16"`).
#'
#' @return The layer, the model, or the output tensor, depending on `object`.
#'   Numbers may be doubles (`3`, `c(3, 3)`); non-integral, non-finite, zero or
#'   negative sizes, and unknown `padding` or `implementation` values are errors that
#'   name the argument.
#'
#' @section Input and output shapes:
#' Inputs `(batch, rows, cols, channels)` (channels_last) or
#' `(batch, channels, rows, cols)` (channels_first); outputs `(batch, new_rows,
#' new_cols, filters)` or `(batch, filters, new_rows, new_cols)`.
#'
#' @family locally connected layers
#' @export
#' @examplesIf requireNamespace("keras3", quietly = TRUE) && reticulate::py_module_available("keras")
#' library(keras3)
#' model <- keras_model_sequential(input_shape = c(28, 28, 1)) |>
#'   layer_locally_connected_2d(filters = 8, kernel_size = c(5, 5), strides = 2,
#'                              activation = "relu") |>
#'   layer_flatten() |>
#'   layer_dense(units = 10, activation = "softmax")
#' model
#'
#' # The functional API: a tensor in, the layer's output out.
#' inputs <- keras_input(shape = c(16, 16, 3))
#' outputs <- inputs |> layer_locally_connected_2d(filters = 4, kernel_size = 3)
#' keras_model(inputs, outputs)
layer_locally_connected_2d <- function(object, filters, kernel_size, strides = c(1L, 1L),
                                       padding = "valid", data_format = NULL,
                                       activation = NULL, use_bias = TRUE,
                                       kernel_initializer = "glorot_uniform",
                                       bias_initializer = "zeros", kernel_regularizer = NULL,
                                       bias_regularizer = NULL, activity_regularizer = NULL,
                                       kernel_constraint = NULL, bias_constraint = NULL,
                                       implementation = 1L, batch_size = NULL, name = NULL,
                                       trainable = NULL, weights = NULL,
                                       dilation_rate = c(1L, 1L), groups = 1L,
                                       weight_sharing = c(1L, 1L), ...) {
  call_front_door("layer_locally_connected_2d", environment(), ...)
}

#' Locally connected layer for 1D inputs (sequences)
#'
#' Works like `keras3::layer_conv_1d()`, except that the weights are
#' unshared: every output step has its own filters.
#'
#' @inheritParams layer_locally_connected_2d
#' @param kernel_size An integer (or a vector of 1 integer): the window length.
#' @param strides An integer (or a vector of 1 integer): the step of the window.
#' @param data_format `"channels_last"` (inputs `(batch, steps, channels)`) or
#'   `"channels_first"` (inputs `(batch, channels, steps)`); `NULL` uses Keras'
#'   `image_data_format()`.
#' @param weights Initial weights: `list(kernel, bias)` (or `list(kernel)` without
#'   bias), `kernel` with dimensions `c(output steps, kernel_size * channels, filters)`
#'   and `bias` `c(output steps, filters)`.
#' @param padding `"valid"`, `"same"` (pads like `keras3::layer_conv_1d()`), `"causal"`
#'   (as `keras3::layer_conv_1d()`: `(kernel_size - 1) * dilation_rate` before),
#'   `"circular"` or `"reflect"`, case-insensitive; or `list(c(before, after))`.
#' @param dilation_rate An integer: the spacing of the window's taps.
#' @param weight_sharing An integer: output steps are grouped in blocks of this many, each
#'   with one kernel and one bias.
#'
#' @return The layer, the model, or the output tensor, depending on `object`.
#'
#' @section Input and output shapes:
#' Inputs `(batch, steps, channels)` (channels_last) or `(batch, channels, steps)`;
#' outputs `(batch, new_steps, filters)` or `(batch, filters, new_steps)`.
#'
#' @family locally connected layers
#' @export
#' @examplesIf requireNamespace("keras3", quietly = TRUE) && reticulate::py_module_available("keras")
#' library(keras3)
#' model <- keras_model_sequential(input_shape = c(100, 2)) |>
#'   layer_locally_connected_1d(filters = 4, kernel_size = 5, strides = 2) |>
#'   layer_global_average_pooling_1d() |>
#'   layer_dense(units = 1)
#' model
layer_locally_connected_1d <- function(object, filters, kernel_size, strides = 1L,
                                       padding = "valid", data_format = NULL,
                                       activation = NULL, use_bias = TRUE,
                                       kernel_initializer = "glorot_uniform",
                                       bias_initializer = "zeros", kernel_regularizer = NULL,
                                       bias_regularizer = NULL, activity_regularizer = NULL,
                                       kernel_constraint = NULL, bias_constraint = NULL,
                                       implementation = 1L, batch_size = NULL, name = NULL,
                                       trainable = NULL, weights = NULL,
                                       dilation_rate = 1L, groups = 1L,
                                       weight_sharing = 1L, ...) {
  call_front_door("layer_locally_connected_1d", environment(), ...)
}

#' Locally connected layer for 3D inputs (volumes)
#'
#' Works like `keras3::layer_conv_3d()`, except that the weights are unshared: every
#' output voxel has its own filters. No R keras 2.x or tf-keras version had this layer;
#' its arguments are those of [layer_locally_connected_2d()] with three spatial
#' dimensions. The kernel grows with the number of output voxels: a layer whose kernel
#' would not fit in memory is an error naming its size, `kernel_size` and `filters`.
#'
#' @inheritParams layer_locally_connected_2d
#' @param kernel_size An integer or a vector of 3 integers: the window's size along the
#'   three spatial dimensions.
#' @param strides An integer or a vector of 3 integers: the window's step.
#' @param data_format `"channels_last"` (inputs `(batch, dim1, dim2, dim3, channels)`) or
#'   `"channels_first"` (inputs `(batch, channels, dim1, dim2, dim3)`); `NULL` uses Keras'
#'   `image_data_format()`.
#' @param weights Initial weights: `list(kernel, bias)` (or `list(kernel)` without
#'   bias), `kernel` with dimensions `c(output voxels, prod(kernel_size) * channels,
#'   filters)` and `bias` `c(new_dim1, new_dim2, new_dim3, filters)`.
#' @param padding `"valid"`, `"same"` (pads like `keras3::layer_conv_3d()`), `"circular"`
#'   or `"reflect"`, case-insensitive; or a list of 3 `c(before, after)` pairs.
#' @param dilation_rate An integer or a vector of 3 integers: the spacing of the window's
#'   taps.
#' @param weight_sharing An integer or a vector of 3 integers: output voxels are grouped in
#'   blocks of this size, each with one kernel and one bias.
#'
#' @return The layer, the model, or the output tensor, depending on `object`.
#'
#' @section Input and output shapes:
#' Inputs `(batch, dim1, dim2, dim3, channels)` (channels_last) or
#' `(batch, channels, dim1, dim2, dim3)`; outputs `(batch, new_dim1, new_dim2, new_dim3,
#' filters)` or `(batch, filters, new_dim1, new_dim2, new_dim3)`.
#'
#' @family locally connected layers
#' @export
#' @examplesIf requireNamespace("keras3", quietly = TRUE) && reticulate::py_module_available("keras")
#' library(keras3)
#' model <- keras_model_sequential(input_shape = c(16, 16, 16, 1)) |>
#'   layer_locally_connected_3d(filters = 2, kernel_size = 3, strides = 2) |>
#'   layer_flatten() |>
#'   layer_dense(units = 1)
#' model
layer_locally_connected_3d <- function(object, filters, kernel_size, strides = c(1L, 1L, 1L),
                                       padding = "valid", data_format = NULL,
                                       activation = NULL, use_bias = TRUE,
                                       kernel_initializer = "glorot_uniform",
                                       bias_initializer = "zeros", kernel_regularizer = NULL,
                                       bias_regularizer = NULL, activity_regularizer = NULL,
                                       kernel_constraint = NULL, bias_constraint = NULL,
                                       implementation = 1L, batch_size = NULL, name = NULL,
                                       trainable = NULL, weights = NULL,
                                       dilation_rate = c(1L, 1L, 1L), groups = 1L,
                                       weight_sharing = c(1L, 1L, 1L), ...) {
  call_front_door("layer_locally_connected_3d", environment(), ...)
}

# The one helper of the layer functions: the calling function's arguments
# (`arguments`, its environment) go to the Python front door of the same name.
call_front_door <- function(front_door, arguments, ..., call = sys.call(-1)) {
  is_missing <- function(name) eval(call("missing", as.name(name)), arguments)
  for (required in c("filters", "kernel_size")) {
    if (is_missing(required)) {
      stop(locallyconnected_error(paste0("`", required, "` is required."), call))
    }
  }
  object <- if (is_missing("object")) NULL else arguments$object
  args <- mget(setdiff(ls(arguments), "object"), envir = arguments)
  invoke_front_door(front_door, object, c(args, list(...)), call = call)
}
