# Skips (not fails) when Python, TensorFlow or the Python package is missing, as
# R packages that wrap Python do.
skip_if_no_python <- function() {
  skip_on_cran()
  if (!reticulate::py_available(initialize = TRUE)) skip("Python is not available")
  for (module in c("tensorflow", "keras", "locally_connected")) {
    if (!reticulate::py_module_available(module)) skip(paste("Python module", module, "is not available"))
  }
}

# Minimal stand-ins for the R keras3 functions these tests need (keras3 is not
# installed here): Keras objects made through reticulate.
keras_module <- function() reticulate::import("keras")

keras_model_sequential <- function() keras_module()$Sequential()

layer_input <- function(shape) keras_module()$Input(shape = reticulate::tuple(as.list(as.integer(shape))))

add_or_call <- function(object, layer) {
  if (inherits(object, "keras.src.models.sequential.Sequential")) {
    object$add(layer)
    invisible(object)
  } else {
    layer(object)
  }
}

layer_dense <- function(object, units, input_shape = NULL) {
  args <- list(units = as.integer(units))
  if (!is.null(input_shape)) args$input_shape <- reticulate::tuple(as.list(as.integer(input_shape)))
  add_or_call(object, do.call(keras_module()$layers$Dense, args))
}

layer_reshape <- function(object, target_shape) {
  add_or_call(object, keras_module()$layers$Reshape(reticulate::tuple(as.list(as.integer(target_shape)))))
}

layer_flatten <- function(object) add_or_call(object, keras_module()$layers$Flatten())

as_r_array <- function(tensor) reticulate::py_to_r(reticulate::r_to_py(tensor)$numpy())
