#' locallyconnected: locally connected layers for Keras 3
#'
#' `layer_locally_connected_1d()` and `layer_locally_connected_2d()` with the
#' signature of R keras 2.x, for Keras 3 and the keras3 package, and
#' `layer_locally_connected_3d()` for volumes, with the same arguments. The layers are
#' implemented once, in the Python package `locally_connected`, which this package
#' carries: any Python environment with Keras 3 and a backend will do, and a layer
#' made in R is the same Python object Python sees.
#'
#' The layer classes are registered with Keras as soon as Python starts in the R
#' session (or at once, if it already runs), so `keras3::load_model()` reads saved
#' models right after `library(locallyconnected)`.
#'
#' @keywords internal
"_PACKAGE"

.onLoad <- function(libname, pkgname) {
  declare_python_requirements()
  # Whoever starts Python (keras3, reticulate, this package), the classes get registered.
  setHook("reticulate.onPyInit", register_layer_classes)
  if (reticulate::py_available(initialize = FALSE)) register_layer_classes()
}

.onUnload <- function(libpath) {
  hooks <- getHook("reticulate.onPyInit")
  if (!is.list(hooks)) hooks <- list(hooks)
  kept <- Filter(function(hook) !identical(hook, register_layer_classes), hooks)
  setHook("reticulate.onPyInit", kept, action = "replace")
}
