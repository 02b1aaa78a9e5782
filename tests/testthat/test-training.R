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
  model <- keras_model_sequential() |>
    layer_locally_connected_2d(filters = 2, kernel_size = 3, padding = "same", implementation = 3,
                               activation = "relu", input_shape = c(5, 6, 2))
  loaded <- saved_and_loaded(model)
  x <- array(rnorm(3 * 5 * 6 * 2), c(3, 5, 6, 2))
  expect_identical(model$predict(x, verbose = 0L), loaded$predict(x, verbose = 0L))
  for (i in seq_along(model$get_weights())) {
    expect_identical(model$get_weights()[[i]], loaded$get_weights()[[i]])
  }
  expect_identical(loaded$layers[[1]]$implementation, 3L)
})

test_that("Conv's arguments and weight_sharing pass from R, compute what R computes, and reload", {
  skip_if_no_python()
  set.seed(2)
  # weight_sharing over the whole output is a convolution: one kernel, a bias per filter.
  # One kernel; features (tap, channel of the group): 3 taps x 1 channel per group.
  kernel <- array(rnorm(1 * 3 * 4), c(1, 3, 4))
  bias <- array(rnorm(4), c(1, 4))
  x <- array(rnorm(2 * 9 * 2), c(2, 9, 2))
  y <- as_r_array(layer_locally_connected_1d(x, filters = 4, kernel_size = 3, dilation_rate = 2,
                                             padding = "causal", groups = 2, weight_sharing = 9,
                                             weights = list(kernel, bias)))
  expected <- array(0, c(2, 9, 4))
  padded <- array(0, c(2, 13, 2))
  padded[, 5:13, ] <- x
  for (p in 1:9) for (f in 1:4) {
    channel <- if (f <= 2) 1 else 2  # filter f reads the channels of its group
    taps <- padded[, p + c(0, 2, 4), channel]  # dilation 2, 4 zeros before (causal)
    expected[, p, f] <- taps %*% kernel[1, , f] + bias[1, f]
  }
  expect_equal(y, expected, tolerance = 1e-5)

  model <- keras_model_sequential() |>
    layer_locally_connected_2d(filters = 4, kernel_size = 3, padding = list(c(1, 2), c(0, 1)),
                               dilation_rate = c(2, 1), groups = 2, weight_sharing = c(2, 3),
                               implementation = 3, input_shape = c(9, 8, 4), name = "lc")
  layer <- model$get_layer("lc")
  expect_equal(lapply(layer$padding, unlist), list(c(1, 2), c(0, 1)))
  expect_equal(unlist(layer$dilation_rate), c(2, 1))
  expect_identical(layer$groups, 2L)
  expect_equal(unlist(layer$weight_sharing), c(2, 3))
  expect_equal(dim(layer$get_weights()[[1]]), c(4 * 3, 3 * 3 * 2, 4))  # 8 x 7 outputs in 4 x 3 blocks
  loaded <- saved_and_loaded(model)
  z <- array(rnorm(2 * 9 * 8 * 4), c(2, 9, 8, 4))
  expect_identical(loaded$predict(z, verbose = 0L), model$predict(z, verbose = 0L))
  expect_identical(loaded$get_layer("lc")$get_config(), layer$get_config())
})
