#' Install the Python side of locallyconnected
#'
#' Creates (or updates) a Python virtual environment with TensorFlow, Keras 3 and the
#' Python package `locally_connected`, in the reticulate convention: afterwards
#' `reticulate::use_virtualenv(envname)` (or `RETICULATE_PYTHON`) selects it. With
#' reticulate older than 1.36, NumPy is kept below 2, which those versions cannot
#' convert.
#'
#' @param envname Name of, or path to, the virtual environment.
#' @param python_package What pip installs for the Python package: the path of a
#'   checkout of this project (its root holds `pyproject.toml`), a wheel file, or a
#'   requirement that your package index can satisfy.
#' @param tensorflow The TensorFlow requirement.
#' @param extra_packages Further pip requirements.
#' @param python The Python used to create the environment when it does not exist.
#' @param pip_options Further pip options, for example `"--upgrade"`.
#'
#' @return The environment's path, invisibly.
#' @export
#' @examples
#' \dontrun{
#' install_locallyconnected()
#' reticulate::use_virtualenv("r-locallyconnected")
#' }
install_locallyconnected <- function(envname = "r-locallyconnected",
                                     python_package = "locally_connected",
                                     tensorflow = "tensorflow>=2.16",
                                     extra_packages = character(),
                                     python = NULL, pip_options = character()) {
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  reticulate::virtualenv_install(envname, python_requirements(python_package, tensorflow, extra_packages),
                                 pip_options = pip_options, ignore_installed = FALSE)
  invisible(reticulate::virtualenv_python(envname))
}

# The pip requirements install_locallyconnected() installs.
python_requirements <- function(python_package, tensorflow, extra_packages = character(),
                                reticulate_version = utils::packageVersion("reticulate")) {
  numpy <- if (reticulate_version < "1.36") c("numpy<2", "ml_dtypes<0.6") else character()
  c(tensorflow, python_package, numpy, extra_packages)
}
