# Calling the Python front door: NumPy compatibility, error messages, visibility.

python_state <- new.env(parent = emptyenv())

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
        reticulate::py_config()$python, "): pip install \"numpy<2\" \"ml_dtypes<0.6\", or run ",
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
compose_with_python <- function(front_door, object, args, call = sys.call(-1)) {
  check_numpy_compatible()
  args <- args[!vapply(args, is.null, logical(1))]
  # reticulate hands a logical NA to Python as True: refuse NA before it is lost.
  has_na <- vapply(args, function(a) is.atomic(a) && length(a) > 0 && anyNA(a), logical(1))
  if (any(has_na)) {
    name <- names(args)[has_na][1]
    stop(structure(
      class = c("locallyconnected_error", "error", "condition"),
      list(message = paste0("`", name, "` must not be NA. Received: ", name, " = ",
                            paste(deparse(args[[name]]), collapse = "")), call = call)
    ))
  }
  args <- c(list(object = object), args)
  result <- tryCatch(
    do.call(locally_connected[[front_door]], args),
    error = function(e) stop(python_error(e, call))
  )
  if (is_sequential(object)) invisible(result) else result
}
