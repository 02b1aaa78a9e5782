test_that("missing or NULL object returns the layer, visibly", {
  skip_if_no_python()
  v <- withVisible(layer_locally_connected_2d(filters = 3, kernel_size = 2))
  expect_true(v$visible)
  expect_s3_class(v$value, "locally_connected.layers.LocallyConnected2D")
  expect_s3_class(layer_locally_connected_1d(NULL, 2, 3), "locally_connected.layers.LocallyConnected1D")
})

test_that("a Sequential model gets the layer in place and is returned invisibly", {
  skip_if_no_python()
  model <- keras_model_sequential()
  model$add(layer_input(c(8, 8, 1)))
  v <- withVisible(layer_locally_connected_2d(model, filters = 3, kernel_size = c(2, 2)))
  expect_false(v$visible)
  expect_identical(reticulate::py_id(v$value), reticulate::py_id(model))
  expect_length(model$layers, 1)
  expect_equal(unlist(model$output_shape), c(7, 7, 3))
})

test_that("a tensor or an array returns the output, visibly", {
  skip_if_no_python()
  input <- layer_input(c(6, 5, 2))
  v <- withVisible(layer_locally_connected_2d(input, filters = 4, kernel_size = c(3, 2)))
  expect_true(v$visible)
  expect_equal(unlist(v$value$shape), c(4, 4, 4))
  x <- array(runif(3 * 10 * 2), c(3, 10, 2))
  y <- layer_locally_connected_1d(x, filters = 2, kernel_size = 3)
  expect_equal(dim(as_r_array(y)), c(3, 8, 2))
})

test_that("R keras 2.x's own pipeline runs unchanged, with %>% and |>", {
  skip_if_no_python()
  library(magrittr)
  model <- keras_model_sequential() %>%
    layer_dense(32, input_shape = c(784)) %>%
    layer_reshape(target_shape = c(2, 4, 4)) %>%
    layer_locally_connected_2d(filters = 3, kernel_size = c(2, 2))
  expect_equal(unlist(model$output_shape), c(1, 3, 3))
  model_1d <- keras_model_sequential() |>
    layer_dense(32, input_shape = c(784)) |>
    layer_reshape(target_shape = c(8, 4)) |>
    layer_locally_connected_1d(filters = 3, kernel_size = 2)
  expect_equal(unlist(model_1d$output_shape), c(7, 3))
  expect_equal(dim(model_1d$predict(matrix(0, 2, 784), verbose = 0L)), c(2, 7, 3))
})

test_that("input_shape and batch_size let the layer start a model", {
  skip_if_no_python()
  model <- keras_model_sequential() |>
    layer_locally_connected_1d(filters = 2, kernel_size = 3, input_shape = c(10, 4), batch_size = 6)
  expect_equal(unlist(model$inputs[[1]]$shape), c(6, 10, 4))
  expect_equal(unlist(model$output_shape), c(6, 8, 2))
})

test_that("a functional model or another object is an error naming object", {
  skip_if_no_python()
  input <- layer_input(c(4, 4, 1))
  functional <- keras_module()$Model(input, layer_flatten(input))
  expect_error(layer_locally_connected_2d(functional, 2, 2), "`object` must be None")
  expect_error(layer_locally_connected_2d("a string", 2, 2), "`object` must be None")
})

test_that("layer_locally_connected_3d() composes like the others and equals Python's layer", {
  skip_if_no_python()
  expect_identical(names(formals(layer_locally_connected_3d)), names(formals(layer_locally_connected_2d)))
  expect_identical(formals(layer_locally_connected_3d)$strides, quote(c(1L, 1L, 1L)))
  model <- keras_model_sequential() |>
    layer_locally_connected_3d(filters = 2, kernel_size = c(3, 2, 2), strides = 2, padding = "same",
                               implementation = "auto", input_shape = c(6, 5, 4, 1))
  expect_s3_class(model$layers[[1]], "locally_connected.layers.LocallyConnected3D")
  expect_equal(unlist(model$output_shape), c(3, 3, 2, 2))
  x <- array(seq_len(2 * 6 * 5 * 4) / 100, c(2, 6, 5, 4, 1))
  expect_equal(dim(model$predict(x, verbose = 0L)), c(2, 3, 3, 2, 2))
  expect_error(layer_locally_connected_3d(filters = 2, kernel_size = c(3, 3)),
               "`kernel_size` must be an integer or a sequence of 3")
})
