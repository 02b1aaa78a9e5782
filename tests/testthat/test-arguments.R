test_that("R numbers are coerced without loss", {
  skip_if_no_python()
  for (kernel_size in list(3, 3.0, c(3, 3), 3L, c(3L, 3L))) {
    layer <- layer_locally_connected_2d(filters = 2, kernel_size = kernel_size)
    expect_equal(unlist(layer$kernel_size), c(3, 3))
  }
  layer <- layer_locally_connected_2d(filters = 2L, kernel_size = c(2, 3), strides = 2,
                                      implementation = 2, padding = "SAME")
  expect_identical(layer$filters, 2L)
  expect_equal(unlist(layer$strides), c(2, 2))
  expect_identical(layer$implementation, 2L)
  expect_identical(layer$padding, "same")
  expect_equal(unlist(layer_locally_connected_1d(filters = 2, kernel_size = 4)$kernel_size), 4)
})

test_that("the R signature is R keras 2.x's", {
  expect_identical(
    names(formals(layer_locally_connected_2d)),
    c("object", "filters", "kernel_size", "strides", "padding", "data_format", "activation",
      "use_bias", "kernel_initializer", "bias_initializer", "kernel_regularizer",
      "bias_regularizer", "activity_regularizer", "kernel_constraint", "bias_constraint",
      "implementation", "batch_size", "name", "trainable", "weights", "dilation_rate", "groups",
      "weight_sharing", "...")
  )
  expect_identical(formals(layer_locally_connected_2d)$strides, quote(c(1L, 1L)))
  expect_identical(formals(layer_locally_connected_1d)$strides, 1L)
  expect_identical(formals(layer_locally_connected_2d)$implementation, 1L)
  expect_identical(names(formals(layer_locally_connected_1d)), names(formals(layer_locally_connected_2d)))
})

bad_inputs <- list(
  list(args = list(kernel_size = 3.5), message = "`kernel_size` must be an integer >= 1"),
  list(args = list(kernel_size = 0), message = "`kernel_size` must be an integer >= 1"),
  list(args = list(kernel_size = -1), message = "`kernel_size` must be an integer >= 1"),
  list(args = list(kernel_size = c(3, 3, 3)), message = "`kernel_size` must be an integer or a sequence of 2"),
  list(args = list(kernel_size = "3"), message = "`kernel_size` must be an integer or a sequence of 2"),
  list(args = list(kernel_size = NA_real_), message = "`kernel_size` must not be NA"),
  list(args = list(kernel_size = c(3, NA)), message = "`kernel_size` must not be NA"),
  list(args = list(filters = NA_integer_), message = "`filters` must not be NA"),
  list(args = list(use_bias = NA), message = "`use_bias` must not be NA"),
  list(args = list(trainable = NA), message = "`trainable` must not be NA"),
  list(args = list(padding = NA_character_), message = "`padding` must not be NA"),
  list(args = list(strides = 1.5), message = "`strides` must be an integer >= 1"),
  list(args = list(strides = 0), message = "`strides` must be an integer >= 1"),
  list(args = list(strides = c(1, 1, 1)), message = "`strides` must be an integer or a sequence of 2"),
  list(args = list(filters = 3.5), message = "`filters` must be an integer >= 1"),
  list(args = list(filters = -1), message = "`filters` must be an integer >= 1"),
  list(args = list(padding = "full"), message = "`padding` must be one of"),
  list(args = list(data_format = "NHWC"), message = "`data_format` must be one of"),
  list(args = list(implementation = 4), message = "`implementation` must be one of \\[1, 2, 3\\]"),
  list(args = list(implementation = "2"), message = "`implementation` must be one of \\[1, 2, 3\\] or 'auto'"),
  list(args = list(use_bias = "yes"), message = "`use_bias` must be TRUE/FALSE"),
  list(args = list(batch_size = 2.5), message = "`batch_size` must be an integer >= 1"),
  list(args = list(trainable = 1), message = "`trainable` must be TRUE/FALSE"),
  list(args = list(input_shape = c(8, 0, 1)), message = "`input_shape` must be an integer >= 1"),
  list(args = list(unknown = 1), message = "Unknown argument"),
  list(args = list(padding = "causal"), message = "`padding` = 'causal' is for 1D layers only"),
  list(args = list(padding = list(c(1, 1))), message = "`padding` must be one of .* a sequence of 2 \\(before, after\\)"),
  list(args = list(padding = list(c(1, -1), c(0, 0))), message = "`padding` must be an integer >= 0"),
  list(args = list(padding = list(c(1, 0.5), c(0, 0))), message = "`padding` must be an integer >= 0; non-integral"),
  list(args = list(dilation_rate = 0), message = "`dilation_rate` must be an integer >= 1"),
  list(args = list(dilation_rate = c(2, 1.5)), message = "`dilation_rate` must be an integer >= 1"),
  list(args = list(groups = 3), message = "`groups` must divide `filters`"),
  list(args = list(groups = 1.5), message = "`groups` must be an integer >= 1"),
  list(args = list(groups = NA_integer_), message = "`groups` must not be NA"),
  list(args = list(weight_sharing = 0), message = "`weight_sharing` must be an integer >= 1"),
  list(args = list(weight_sharing = c(1, 1, 1)), message = "`weight_sharing` must be an integer or a sequence of 2")
)

test_that("bad inputs are R errors that name the argument, without Python noise", {
  skip_if_no_python()
  for (case in bad_inputs) {
    args <- modifyList(list(filters = 2, kernel_size = 2), case$args)
    error <- tryCatch(do.call(layer_locally_connected_2d, args), error = identity)
    expect_s3_class(error, "locallyconnected_error")
    expect_match(conditionMessage(error), case$message)
    expect_no_match(conditionMessage(error), "Traceback|py_last_error|File \"")
  }
  expect_error(layer_locally_connected_1d(filters = 2, kernel_size = c(2, 2)),
               "`kernel_size` must be an integer or a sequence of 1")
})

test_that("missing filters or kernel_size is an error naming it", {
  expect_error(layer_locally_connected_2d(kernel_size = 2), "`filters` is required")
  expect_error(layer_locally_connected_1d(filters = 2), "`kernel_size` is required")
})

test_that("the formals are the Python layer's arguments, in its order, with its defaults", {
  skip_if_no_python()
  inspect <- reticulate::import("inspect")
  module <- locallyconnected:::python_module()
  for (rank in 1:3) {
    name <- sprintf("layer_locally_connected_%dd", rank)
    r_formals <- formals(get(name, envir = asNamespace("locallyconnected")))
    parameters <- reticulate::iterate(inspect$signature(module[[name]])$parameters$values())
    python_names <- vapply(parameters, function(p) p$name, character(1))
    expect_identical(names(r_formals), sub("^kwargs$", "...", python_names), info = name)
    for (parameter in parameters[python_names != "kwargs"]) {
      python_default <- parameter$default
      info <- paste(name, parameter$name)
      # A formal without default is the empty symbol, which cannot be held in a variable.
      if (identical(r_formals[[parameter$name]], quote(expr = ))) {
        expect_null(python_default, info = info)  # required in R; None in Python
      } else {
        r_value <- eval(r_formals[[parameter$name]])
        expect_identical(is.null(r_value), is.null(python_default), info = info)
        if (!is.null(r_value)) expect_equal(unlist(r_value), unlist(python_default), info = info)
      }
    }
  }
})
