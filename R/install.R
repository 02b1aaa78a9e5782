#' Install Keras 3 and a backend for locallyconnected
#'
#' Creates (or updates) a Python virtual environment with Keras 3 and a backend. The
#' layers' own Python code comes with this R package, so nothing else is needed. After
#' a restart of R, `reticulate::use_virtualenv(envname, required = TRUE)` (before
#' Python starts) or `RETICULATE_PYTHON` selects the environment. With reticulate older
#' than 1.36, NumPy is kept below 2, which those versions cannot convert.
#'
#' keras3 users can instead rely on `keras3::install_keras()` or, with reticulate >=
#' 1.41, on the requirements keras3 and this package declare with
#' `reticulate::py_require()`.
#'
#' @param envname Name of, or path to, the virtual environment.
#' @param backend The Keras backend to install: `"tensorflow"`, `"jax"` or `"torch"`.
#'   Keras uses TensorFlow unless told otherwise: for the others, set the
#'   `KERAS_BACKEND` environment variable (or call `keras3::use_backend()`) before
#'   Python starts.
#' @param extra_packages Further pip requirements.
#' @param python The Python used to create the environment when it does not exist.
#' @param pip_options Further pip options, for example `"--upgrade"`.
#'
#' @return The environment's Python executable, invisibly.
#' @export
#' @examples
#' \dontrun{
#' install_locallyconnected()
#' # in a new R session:
#' reticulate::use_virtualenv("r-locallyconnected", required = TRUE)
#' }
install_locallyconnected <- function(envname = "r-locallyconnected",
                                     backend = c("tensorflow", "jax", "torch"),
                                     extra_packages = character(),
                                     python = NULL, pip_options = character()) {
  backend <- match.arg(backend)
  if (!reticulate::virtualenv_exists(envname)) {
    reticulate::virtualenv_create(envname, python = python)
  }
  reticulate::virtualenv_install(envname, python_requirements(backend, extra_packages),
                                 pip_options = pip_options, ignore_installed = FALSE)
  invisible(reticulate::virtualenv_python(envname))
}

# The oldest backends the compatibility run of `make test` tests (docs/compatibility.md).
TESTED_BACKEND_FLOORS <- c(tensorflow = "tensorflow>=2.16.1", jax = "jax[cpu]>=0.4.18", torch = "torch>=2.13")

# The pip requirements install_locallyconnected() installs.
python_requirements <- function(backend, extra_packages = character(),
                                reticulate_version = utils::packageVersion("reticulate")) {
  backend_requirement <- TESTED_BACKEND_FLOORS[[backend]]
  numpy <- if (reticulate_version < "1.36") c("numpy>=1.26,<2", "ml_dtypes<0.6") else "numpy>=1.26"
  c(paste0("keras>=", MINIMUM_KERAS), backend_requirement, numpy, extra_packages)
}
