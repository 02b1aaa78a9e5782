#' locallyconnected: locally connected layers for Keras 3
#'
#' `layer_locally_connected_1d()` and `layer_locally_connected_2d()` with the
#' signature of R keras 2.x, for Keras 3. The layers are implemented once, in the
#' Python package `locally_connected`; these functions call its front door through
#' reticulate, so a layer made in R is the same Python object Python sees.
#'
#' @keywords internal
"_PACKAGE"

# The Python front door, imported on first use so library(locallyconnected) never
# starts Python.
locally_connected <- NULL

.onLoad <- function(libname, pkgname) {
  locally_connected <<- reticulate::import("locally_connected", delay_load = TRUE)
}
