# Models saved by R keras 2.x / tf-keras (save_model_hdf5(), save_model_weights_hdf5())
# load in Keras 3 right after library(locallyconnected).

test_that("a new R session loads an old .h5 model right after library(), any implementation", {
  # tf-keras writes the old files: a keras3 user's Python may not have it.
  skip_if_no_python(c("tensorflow", "keras", "tf_keras"))
  tf_keras <- reticulate::import("tf_keras")
  dir <- tempfile("old-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  x <- array(seq_len(2 * 7 * 6 * 3) / 50, c(2, 7, 6, 3))
  for (implementation in 1:3) {
    tf_keras$utils$set_random_seed(as.integer(implementation))
    old <- tf_keras$Sequential(list(
      tf_keras$Input(shape = list(7L, 6L, 3L)),
      tf_keras$layers$LocallyConnected2D(4L, list(3L, 3L), implementation = implementation,
                                         padding = if (implementation == 1) "valid" else "same",
                                         activation = "relu", name = "lc"),
      tf_keras$layers$Flatten(),
      tf_keras$layers$Dense(2L)
    ))
    path <- file.path(dir, sprintf("old-%d.h5", implementation))
    old$save(path)
    saveRDS(list(x = x, y = old$predict(x, verbose = 0L)), file.path(dir, "data.rds"))
    output <- run_r(c(
      "library(locallyconnected)",
      "keras <- reticulate::import('keras')",
      sprintf("model <- keras$saving$load_model('%s')", path),
      sprintf("data <- readRDS('%s')", file.path(dir, "data.rds")),
      "cat('implementation', model$get_layer('lc')$implementation, '\\n')",
      "cat('difference', max(abs(model$predict(data$x, verbose = 0L) - data$y)), '\\n')"
    ))
    text <- paste(output, collapse = "\n")
    expect_identical(attr(output, "status"), 0L, info = text)
    expect_true(paste("implementation", implementation, "") %in% output, info = text)
    difference <- as.numeric(sub("^difference ", "", grep("^difference ", output, value = TRUE)))
    expect_lte(difference, 1e-5)
  }
})

test_that("a new R session loads tf-keras's .keras model and .weights.h5 right after library()", {
  # tf-keras writes the old files: a keras3 user's Python may not have it.
  skip_if_no_python(c("tensorflow", "keras", "tf_keras"))
  tf_keras <- reticulate::import("tf_keras")
  dir <- tempfile("old-keras-")
  dir.create(dir)
  on.exit(unlink(dir, recursive = TRUE))
  x <- array(seq_len(2 * 3 * 8 * 7) / 80, c(2, 3, 8, 7))
  tf_keras$utils$set_random_seed(7L)
  # tf-keras 2.13+ writes the Keras v3 formats; implementation 3 saves its kernel as a vector.
  old <- tf_keras$Sequential(list(
    tf_keras$Input(shape = list(3L, 8L, 7L)),
    tf_keras$layers$LocallyConnected2D(4L, list(3L, 3L), implementation = 3L, padding = "same",
                                       data_format = "channels_first", name = "lc"),
    tf_keras$layers$Flatten(),
    tf_keras$layers$Dense(2L)
  ))
  model_path <- file.path(dir, "old.keras")
  weights_path <- file.path(dir, "old.weights.h5")
  old$save(model_path)
  old$save_weights(weights_path)
  saveRDS(list(x = x, y = old$predict(x, verbose = 0L)), file.path(dir, "data.rds"))
  output <- run_r(c(
    "library(locallyconnected)",
    "keras <- reticulate::import('keras')",
    sprintf("data <- readRDS('%s')", file.path(dir, "data.rds")),
    sprintf("model <- keras$saving$load_model('%s')", model_path),
    "cat('implementation', model$get_layer('lc')$implementation, '\\n')",
    "cat('model difference', max(abs(model$predict(data$x, verbose = 0L) - data$y)), '\\n')",
    "rebuilt <- keras$Sequential(list(keras$Input(shape = reticulate::tuple(3L, 8L, 7L)),",
    "  layer_locally_connected_2d(filters = 4, kernel_size = 3, implementation = 3L, padding = 'same',",
    "                             data_format = 'channels_first'),",
    "  keras$layers$Flatten(), keras$layers$Dense(2L)))",
    sprintf("rebuilt$load_weights('%s')", weights_path),
    "cat('weights difference', max(abs(rebuilt$predict(data$x, verbose = 0L) - data$y)), '\\n')"
  ))
  text <- paste(output, collapse = "\n")
  expect_identical(attr(output, "status"), 0L, info = text)
  expect_true("implementation 3 " %in% output, info = text)
  for (what in c("model difference", "weights difference")) {
    line <- grep(paste0("^", what, " "), output, value = TRUE)
    expect_length(line, 1)
    expect_lte(as.numeric(sub(paste0("^", what, " "), "", line)), 1e-5)
  }
})
