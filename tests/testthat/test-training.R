test_that("weights = list(kernel, bias) from R arrays are used as given", {
  skip_if_no_python()
  set.seed(1)
  # 1D: 10 steps, 2 channels, kernel 3 -> 8 outputs, features (tap, channel).
  kernel <- array(rnorm(8 * 6 * 2), c(8, 6, 2))
  bias <- array(rnorm(8 * 2), c(8, 2))
  x <- array(rnorm(1 * 10 * 2), c(1, 10, 2))
  y <- as_r_array(layer_locally_connected_1d(x, filters = 2, kernel_size = 3,
                                             weights = list(kernel, bias)))
  expected <- matrix(0, 8, 2)
  for (p in 1:8) {
    patch <- as.vector(t(x[1, p:(p + 2), ]))  # (tap, channel) order
    expected[p, ] <- patch %*% kernel[p, , ] + bias[p, ]
  }
  expect_equal(y[1, , ], expected, tolerance = 1e-5)
})

test_that("a model fits from R and lowers its loss", {
  skip_if_no_python()
  keras <- keras_module()
  keras$utils$set_random_seed(1L)
  set.seed(1)
  x <- array(rnorm(128 * 6 * 6), c(128, 6, 6, 1))
  scale <- array(seq(-2, 2, length.out = 36), c(1, 6, 6, 1))
  y <- x * scale[rep(1, 128), , , , drop = FALSE]
  model <- keras_model_sequential() |>
    layer_locally_connected_2d(filters = 1, kernel_size = 1, input_shape = c(6, 6, 1))
  model$compile(optimizer = keras$optimizers$Adam(0.05), loss = "mse")
  before <- model$evaluate(x, y, verbose = 0L)
  model$fit(x, y, epochs = 20L, batch_size = 32L, verbose = 0L)
  after <- model$evaluate(x, y, verbose = 0L)
  expect_lt(after, before / 10)
})

test_that("a model saved to .keras from R reloads with identical weights and outputs", {
  skip_if_no_python()
  keras <- keras_module()
  model <- keras_model_sequential() |>
    layer_locally_connected_2d(filters = 2, kernel_size = 3, padding = "same", implementation = 3,
                               activation = "relu", input_shape = c(5, 6, 2))
  path <- tempfile(fileext = ".keras")
  on.exit(unlink(path))
  model$save(path)
  loaded <- keras$models$load_model(path)
  x <- array(rnorm(3 * 5 * 6 * 2), c(3, 5, 6, 2))
  expect_identical(model$predict(x, verbose = 0L), loaded$predict(x, verbose = 0L))
  for (i in seq_along(model$get_weights())) {
    expect_identical(model$get_weights()[[i]], loaded$get_weights()[[i]])
  }
  expect_identical(loaded$layers[[1]]$implementation, 3L)
})
