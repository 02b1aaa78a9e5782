# Installing, loading and reloading as a user does: new R sessions, Python started by
# someone else, Python without Keras, another copy of the module imported first.

saved_model <- function(dir) {
  keras <- keras_module()
  model <- keras_model_sequential() |>
    layer_locally_connected_2d(filters = 2, kernel_size = 3, implementation = 2,
                               input_shape = c(5, 6, 2)) |>
    layer_flatten() |>
    layer_dense(3)
  x <- array(seq_len(4 * 5 * 6 * 2) / 100, c(4, 5, 6, 2))
  model$save(file.path(dir, "model.keras"))
  model$save(file.path(dir, "model.h5"))
  saveRDS(list(x = x, y = model$predict(x, verbose = 0L)), file.path(dir, "data.rds"))
}

# R code that loads `file` with Keras and prints the largest difference from the saved outputs.
load_and_compare <- function(dir, file) {
  sprintf(paste(
    "keras <- reticulate::import('keras')",
    "model <- keras$saving$load_model('%s', compile = FALSE)",
    "data <- readRDS('%s')",
    "cat('class', class(model$layers[[1]])[1], '\\n')",
    "cat('difference', max(abs(model$predict(data$x, verbose = 0L) - data$y)), '\\n')",
    sep = "\n"), file.path(dir, file), file.path(dir, "data.rds"))
}

expect_loaded <- function(output) {
  expect_identical(attr(output, "status"), 0L, info = paste(output, collapse = "\n"))
  expect_true("class locally_connected.layers.LocallyConnected2D " %in% output,
              info = paste(output, collapse = "\n"))
  expect_true("difference 0 " %in% output, info = paste(output, collapse = "\n"))
}

test_that("a new R session loads saved models right after library(), whoever starts Python", {
  skip_if_no_python()
  dir <- tempfile("saved-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  saved_model(dir)
  for (file in c("model.keras", "model.h5")) {
    # Python started after library(), by reticulate on Keras' import.
    expect_loaded(run_r(c("library(locallyconnected)", load_and_compare(dir, file))))
    # Python started before library(), as keras3 code run first does.
    expect_loaded(run_r(c("reticulate::py_run_string('import keras')", "library(locallyconnected)",
                          load_and_compare(dir, file))))
  }
})

test_that("library() never fails, and a Python without Keras gets an error naming the fix", {
  skip_if_no_python()
  python <- bare_python()
  on.exit(unlink(dirname(dirname(python)), recursive = TRUE))
  attempt <- c(
    "result <- tryCatch(layer_locally_connected_2d(filters = 2, kernel_size = 2),",
    "                   error = function(e) conditionMessage(e))",
    "cat(result, '\\n')"
  )
  for (python_first in c(TRUE, FALSE)) {
    code <- c(if (python_first) "reticulate::py_run_string('x = 1')",
              "library(locallyconnected)", "cat('library loaded\\n')", attempt)
    output <- run_r(code, env = paste0("RETICULATE_PYTHON=", python))
    text <- paste(output, collapse = "\n")
    expect_identical(attr(output, "status"), 0L, info = text)
    expect_true("library loaded" %in% output, info = text)
    expect_match(text, "needs Keras >= 3.6 in Python")
    expect_match(text, "has no Keras", fixed = TRUE)
    expect_match(text, "install_locallyconnected()", fixed = TRUE)
    expect_match(text, "reticulate::py_require(\"keras\")", fixed = TRUE)
    expect_no_match(text, "python_config|Traceback|Detailed traceback")
  }
})

test_that("the Python module is the copy this package carries, imported once", {
  skip_if_no_python()
  module <- locallyconnected:::python_module()
  carried <- normalizePath(system.file("python", "locally_connected", package = "locallyconnected"))
  expect_identical(normalizePath(dirname(module$`__file__`)), carried)
  expect_identical(module$`__version__`, as.character(utils::packageVersion("locallyconnected")))
  # Python's own import finds the same module, and Keras the same classes.
  imported <- reticulate::import("locally_connected")
  expect_identical(reticulate::py_id(imported), reticulate::py_id(module))
  registered <- keras_module()$saving$get_registered_object("locally_connected>LocallyConnected2D")
  expect_identical(reticulate::py_id(registered), reticulate::py_id(module$LocallyConnected2D))
  layer <- layer_locally_connected_2d(filters = 2, kernel_size = 2)
  expect_true(reticulate::import_builtins()$isinstance(layer, module$LocallyConnected2D))
})

test_that("a copy of another version that Python imported first is refused, naming both", {
  skip_if_no_python()
  dir <- tempfile("other-copy-")
  dir.create(file.path(dir, "locally_connected"), recursive = TRUE)
  on.exit(unlink(dir, recursive = TRUE))
  writeLines("__version__ = '0.0.1'", file.path(dir, "locally_connected", "__init__.py"))
  output <- run_r(c(
    sprintf("reticulate::import_from_path('locally_connected', '%s')", dir),
    "library(locallyconnected)",
    "cat(tryCatch(layer_locally_connected_1d(filters = 2, kernel_size = 2),",
    "             error = function(e) conditionMessage(e)), '\\n')"
  ))
  text <- paste(output, collapse = "\n")
  expect_identical(attr(output, "status"), 0L, info = text)
  expect_match(text, "Python already imported locally_connected 0.0.1 from")
  expect_match(text, paste0("this R package is version ", utils::packageVersion("locallyconnected")))
})

test_that("install_locallyconnected() asks for the tested floors of Keras and the backend, never for this package", {
  expect_identical(
    locallyconnected:::python_requirements("tensorflow", reticulate_version = "1.28"),
    c("keras>=3.6", "tensorflow>=2.16.1", "numpy>=1.26,<2", "ml_dtypes<0.6")
  )
  expect_identical(
    locallyconnected:::python_requirements("jax", "h5py", reticulate_version = "1.41"),
    c("keras>=3.6", "jax[cpu]>=0.4.18", "numpy>=1.26", "h5py")
  )
  expect_identical(locallyconnected:::python_requirements("torch", reticulate_version = "1.46")[2], "torch>=2.13")
  expect_error(install_locallyconnected(backend = "theano"), "should be one of")
})
