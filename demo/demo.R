# The digits demo as an R pipe: a locally connected model trained from R.
suppressPackageStartupMessages(library(locallyconnected))
keras <- reticulate::import("keras")
sklearn_datasets <- reticulate::import("sklearn.datasets")

keras$utils$set_random_seed(42L)
digits <- sklearn_datasets$load_digits()
x <- array(digits$images / 16, c(dim(digits$images), 1))
y <- array(as.integer(digits$target))  # an array, not a vector: NumPy, not a list
set.seed(0)
test <- sample(seq_len(nrow(x)), round(0.25 * nrow(x)))

model <- keras$Sequential(list(keras$Input(shape = reticulate::tuple(8L, 8L, 1L)))) |>
  layer_locally_connected_2d(filters = 16, kernel_size = c(3, 3), activation = "relu")
model$add(keras$layers$Flatten())
model$add(keras$layers$Dense(10L, activation = "softmax"))
model$compile(optimizer = keras$optimizers$Adam(3e-3), loss = "sparse_categorical_crossentropy",
              metrics = list("accuracy"))
invisible(model$fit(x[-test, , , , drop = FALSE], y[-test], epochs = 15L, batch_size = 32L,
          validation_split = 0.1, verbose = 2L))
result <- model$evaluate(x[test, , , , drop = FALSE], y[test], verbose = 0L)
cat(sprintf("\nR: LocallyConnected2D test accuracy on %d held-out digits: %.4f (%s parameters)\n",
            length(test), result[[2]], format(model$count_params(), big.mark = ",")))
