# Skips when Python or one of `modules` is missing, as R packages that wrap Python do,
# except where LOCALLYCONNECTED_REQUIRE_PYTHON=true (make test, make check-r): there a
# missing Python is a failure, so a suite that skipped everything cannot pass.
skip_if_no_python <- function(modules = c("tensorflow", "keras")) {
  missing <- python_missing(modules)
  if (is.null(missing)) return(invisible(TRUE))
  if (identical(Sys.getenv("LOCALLYCONNECTED_REQUIRE_PYTHON"), "true")) {
    stop("LOCALLYCONNECTED_REQUIRE_PYTHON is true, but ", missing, call. = FALSE)
  }
  skip_on_cran()
  skip(missing)
}

python_missing <- function(modules = c("tensorflow", "keras")) {
  if (!reticulate::py_available(initialize = TRUE)) return("Python is not available")
  for (module in modules) {
    if (!reticulate::py_module_available(module)) return(paste("Python module", module, "is not available"))
  }
  NULL
}

# Runs R code in a new R process (the installed package, this process's environment plus
# `env`); returns its output lines, with the exit status as attribute "status".
run_r <- function(code, env = character()) {
  script <- tempfile(fileext = ".R")
  on.exit(unlink(script))
  writeLines(code, script)
  output <- suppressWarnings(system2(file.path(R.home("bin"), "Rscript"), c("--vanilla", script),
                                     stdout = TRUE, stderr = TRUE, env = env))
  if (is.null(attr(output, "status"))) attr(output, "status") <- 0L
  output
}

# A Python virtual environment without any packages, made from the Python reticulate uses.
bare_python <- function() {
  dir <- tempfile("bare-python-")
  status <- system2(reticulate::py_exe(), c("-m", "venv", "--without-pip", dir))
  if (status != 0) stop("could not create a virtual environment in ", dir)
  file.path(dir, "bin", "python")
}

# Minimal stand-ins for the R keras3 functions these tests need (keras3 is not
# installed here): Keras objects made through reticulate.
keras_module <- function() reticulate::import("keras")

# `model` saved to a temporary .keras file and loaded back; the file is removed after.
saved_and_loaded <- function(model) {
  path <- tempfile(fileext = ".keras")
  on.exit(unlink(path))
  model$save(path)
  keras_module()$models$load_model(path)
}

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

# Through Keras' own conversion: on PyTorch a layer's output requires grad, and `numpy()` refuses it.
as_r_array <- function(tensor) {
  reticulate::py_to_r(reticulate::import("keras", convert = FALSE)$ops$convert_to_numpy(tensor))
}
