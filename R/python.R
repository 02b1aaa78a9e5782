# The Python side: requirements, the one module import, NumPy compatibility, errors.

python_state <- new.env(parent = emptyenv())

# What the layers need in Python, the floors the compatibility run of `make test` tests
# (docs/compatibility.md); the backend stays the user's (or keras3's) choice.
MINIMUM_KERAS <- "3.6"
PYTHON_REQUIREMENTS <- c(paste0("keras>=", MINIMUM_KERAS), "numpy>=1.26")

# reticulate >= 1.41 builds its default environment from what packages declare with
# py_require(); older versions have no such function. Declarations only count before
# Python starts.
declare_python_requirements <- function() {
  reticulate <- asNamespace("reticulate")
  if (!exists("py_require", envir = reticulate, inherits = FALSE) ||
      reticulate::py_available(initialize = FALSE)) {
    return(invisible(FALSE))
  }
  declared <- tryCatch({
    get("py_require", envir = reticulate)(PYTHON_REQUIREMENTS)
    TRUE
  }, error = function(e) FALSE)
  invisible(declared)
}

# The Python code this R package carries: inst/python, filled from python/ by R CMD build
# and R CMD INSTALL (inst/python/locally_connected is a link to it in the repository).
bundled_python_path <- function() system.file("python", package = "locallyconnected")

# Registers the layer classes with Keras by importing the module. Runs when Python
# starts, so it must never fail: on a problem the first layer call imports again and
# reports it.
register_layer_classes <- function() {
  try(python_module(), silent = TRUE)
  invisible(NULL)
}

# The Python module `locally_connected`, imported once per session.
python_module <- function() {
  if (is.null(python_state$module)) {
    python_state$module <- import_locally_connected()
  }
  python_state$module
}

# Exactly one copy is ever imported: the one Python already has (a pip install that
# Python code imported first), which must be of this package's version, or else the copy
# this package carries, which then is what `import locally_connected` gives Python too.
import_locally_connected <- function() {
  check_keras_available()
  version <- as.character(utils::packageVersion("locallyconnected"))
  if (reticulate::py_eval("'locally_connected' in __import__('sys').modules")) {
    module <- reticulate::import("locally_connected")
    if (!identical(module$`__version__`, version)) {
      stop(
        "Python already imported locally_connected ", module$`__version__`, " from ",
        module$`__file__`, ", but this R package is version ", version, " and carries its ",
        "own copy. Import neither copy before the R package does, or install the Python ",
        "package of the same version.",
        call. = FALSE
      )
    }
    return(module)
  }
  path <- bundled_python_path()
  if (!file.exists(file.path(path, "locally_connected", "__init__.py"))) {
    stop("This installation of locallyconnected lacks its Python code (inst/python). ",
         "Reinstall the package from its source (R CMD build, then R CMD INSTALL).", call. = FALSE)
  }
  reticulate::import_from_path("locally_connected", path = path)
}

# One short message naming the fix, instead of reticulate's configuration dump.
check_keras_available <- function() {
  keras_version <- if (reticulate::py_module_available("keras")) {
    reticulate::py_eval("__import__('keras').__version__")
  }
  if (!is.null(keras_version) && utils::compareVersion(keras_version, MINIMUM_KERAS) >= 0) {
    return(invisible(TRUE))
  }
  found <- if (is.null(keras_version)) "has no Keras" else paste0("has Keras ", keras_version)
  stop(
    "locallyconnected needs Keras >= ", MINIMUM_KERAS, " in Python, and the Python reticulate ",
    "uses (", reticulate::py_exe(), ") ", found, ". Install it with ",
    "install_locallyconnected() or keras3::install_keras(), or declare it with ",
    "reticulate::py_require(\"keras\") in a new R session before Python starts.",
    call. = FALSE
  )
}

# Debian's reticulate 1.28 (and anything before 1.36) cannot convert NumPy 2 arrays:
# fail early with what to do, instead of on the first array.
check_numpy_compatible <- function() {
  if (isTRUE(python_state$numpy_checked)) return(invisible(TRUE))
  if (utils::packageVersion("reticulate") < "1.36" &&
      reticulate::py_module_available("numpy")) {
    numpy_version <- reticulate::py_eval("__import__('numpy').__version__")
    if (utils::compareVersion(numpy_version, "2.0.0") >= 0) {
      stop(
        "reticulate ", utils::packageVersion("reticulate"), " cannot convert arrays of NumPy ",
        numpy_version, " (NumPy >= 2 needs reticulate >= 1.36). Either install ",
        "reticulate >= 1.36, or install NumPy 1 in the Python environment reticulate uses (",
        reticulate::py_exe(), "): pip install \"numpy<2\" \"ml_dtypes<0.6\", or run ",
        "install_locallyconnected(), which does so.",
        call. = FALSE
      )
    }
  }
  python_state$numpy_checked <- TRUE
  invisible(TRUE)
}

# A Python exception as an R error: the Python message alone, which names the argument.
python_error <- function(error, call) {
  message <- conditionMessage(error)
  if (inherits(error, "python.builtin.BaseException")) {
    type <- class(error)[grepl("^python\\.builtin\\.", class(error))][1]
    message <- paste0(sub("^python\\.builtin\\.", "", type), ": ", trimws(reticulate::py_str(error)))
  }
  locallyconnected_error(message, call)
}

locallyconnected_error <- function(message, call = NULL) {
  structure(
    class = c("locallyconnected_error", "error", "condition"),
    list(message = message, call = call)
  )
}

is_sequential <- function(object) {
  inherits(object, "keras.src.models.sequential.Sequential")
}

# Calls a Python front-door function and returns its result as R keras would:
# a Sequential model invisibly (it was modified in place), anything else visibly.
invoke_front_door <- function(front_door, object, args, call = sys.call(-1)) {
  module <- tryCatch(python_module(), error = function(e) stop(python_error(e, call)))
  check_numpy_compatible()
  args <- args[!vapply(args, is.null, logical(1))]
  # reticulate hands a logical NA to Python as True: refuse NA before it is lost.
  has_na <- vapply(args, function(a) is.atomic(a) && length(a) > 0 && anyNA(a), logical(1))
  if (any(has_na)) {
    name <- names(args)[has_na][1]
    stop(locallyconnected_error(
      paste0("`", name, "` must not be NA. Received: ", name, " = ",
             paste(deparse(args[[name]]), collapse = "")),
      call
    ))
  }
  args <- c(list(object = object), args)
  result <- tryCatch(
    do.call(module[[front_door]], args),
    error = function(e) stop(python_error(e, call))
  )
  if (is_sequential(object)) invisible(result) else result
}
