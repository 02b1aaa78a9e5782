"""Embedded R (rpy2) with reticulate attached to this Python, evaluated safely.

reticulate 1.28 calls into Python assuming the caller holds the GIL (true when R is
the main program). rpy2 calls R through cffi, which releases the GIL around every C
call. R code that creates or frees reticulate objects then touches Python without the
GIL: a segmentation fault when R's garbage collector finalizes a Python object during
an rpy2 call, and "Fatal Python error: PyThreadState_Get" in rpy2's `endr` at exit.

So every R evaluation here goes through `r()`, which calls R's `R_tryEvalSilent`
through `ctypes.PyDLL` (which keeps the GIL held) and ends with a full `gc()` while it
still holds the GIL, so no dead reticulate object is left for a later GIL-less
allocation to finalize. `end_r()` performs rpy2's `endr` steps the same way.

One thing no shutdown order can stop: reticulate 1.28 starts a detached thread when it
attaches to Python (src/event_loop.cpp, `eventPollingWorker`) that calls
`Py_AddPendingCall` every 200 ms whenever the last poll has run, and never stops (later
reticulate versions stop it in `py_finalize` with `event_loop::deinitialize`). Once the
interpreter is torn down, that call dereferences a null interpreter: a segmentation fault
at exit, now and then, seen with a core dump as `_PyEval_AddPendingCall (interp=0x0)` in
reticulate.so's thread. So a process that started R here ends with `exit_process()`: R
ended, every atexit handler run, output flushed, then `os._exit` with the process's exit
status, without the interpreter teardown that the thread cannot survive.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import platform
import sys
import types
from typing import NoReturn

_BRIDGE = "r_python_bridge"
_library: ctypes.PyDLL | None = None


class RError(RuntimeError):
    """An R error raised by code evaluated with `r()`."""


def _pointer(sexp) -> ctypes.c_void_p:
    from rpy2.rinterface_lib import openrlib

    cdata = sexp.__sexp__._cdata if hasattr(sexp, "__sexp__") else sexp
    return ctypes.c_void_p(int(openrlib.ffi.cast("uintptr_t", cdata)))


def start_r() -> None:
    """Starts R in this process with reticulate bound to this interpreter (once)."""
    global _library
    if _library is not None:
        return
    os.environ["RETICULATE_PYTHON"] = sys.executable
    sys.modules.setdefault(_BRIDGE, types.ModuleType(_BRIDGE))
    import rpy2.rinterface as rinterface
    import rpy2.situation
    from rpy2.rinterface_lib import openrlib

    rinterface.initr_simple()
    _library = ctypes.PyDLL(rpy2.situation.get_rlib_path(openrlib.R_HOME, platform.system()))
    _library.R_tryEvalSilent.restype = ctypes.c_void_p
    _library.R_tryEvalSilent.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)]
    atexit.register(end_r)  # runs before rpy2's own atexit handler (LIFO)
    r("suppressPackageStartupMessages(library(locallyconnected))")
    r(f"bridge <- reticulate::import('{_BRIDGE}', convert = FALSE)")


def r(code: str):
    """Evaluates R `code` in the global environment with the GIL held; returns its value
    (an rpy2 object). R errors are raised as `RError`."""
    import rpy2.rinterface as rinterface
    from rpy2.rinterface_lib import openrlib

    start_r()
    wrapped = (
        ".r_session_error <- NULL\n"
        ".r_session_value <- tryCatch({\n" + code + "\n}, error = function(e) {\n"
        "  .r_session_error <<- conditionMessage(e); NULL })\n"
        "invisible(gc())"
    )
    expressions = rinterface.parse(wrapped)
    failed = ctypes.c_int(0)
    for i in range(len(expressions)):
        _library.R_tryEvalSilent(_pointer(expressions[i]), _pointer(openrlib.rlib.R_GlobalEnv),
                                 ctypes.byref(failed))
        if failed.value:
            raise RError(f"R failed outside the evaluated code while running:\n{code}")
    error = rinterface.globalenv.find(".r_session_error")
    if error is not rinterface.NULL:
        raise RError(str(error[0]))
    return rinterface.globalenv.find(".r_session_value")


def bridge() -> types.ModuleType:
    """A module both languages see: R sets attributes with `reticulate::py_set_attr(bridge, ...)`."""
    return sys.modules[_BRIDGE]


def end_r() -> None:
    """Ends the embedded R as rpy2's `endr` does, but with the GIL held."""
    from rpy2.rinterface_lib import embedded, openrlib

    if _library is None or embedded.rpy2_embeddedR_isinitialized & embedded.RPY_R_Status.ENDED.value:
        return
    with openrlib.rlock:
        _library.R_dot_Last()
        _library.R_RunExitFinalizers()
        _library.Rf_KillAllDevices()
        _library.R_CleanTempDir()
        _library.R_gc()
        _library.Rf_endEmbeddedR(0)
        # reticulate's event polling may still call R_ProcessEvents: keep it out of Python.
        openrlib.rlib.ptr_R_ProcessEvents = openrlib.ffi.NULL
        embedded.rpy2_embeddedR_isinitialized |= embedded.RPY_R_Status.ENDED.value
    atexit.unregister(embedded.endr)


def started() -> bool:
    """Whether this process started R through `start_r()`."""
    return _library is not None


def exit_process(status: int) -> NoReturn:
    """Ends R and the process with `status` after every atexit handler and a flush of the
    output, without tearing the interpreter down (see the module docstring)."""
    end_r()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
    os._exit(status)


if __name__ == "__main__":
    # `python r_session.py`: start R, share a layer both ways, exit through end_r().
    r("layer <- layer_locally_connected_2d(filters = 2, kernel_size = 3)")
    r("reticulate::py_set_attr(bridge, 'layer', layer)")
    for _i in range(3):  # garbage for R's collector: Python objects R no longer holds
        r("for (i in 1:50) x <- layer_locally_connected_1d(array(1, c(1, 5, 1)), 1, 2)")
    print(type(bridge().layer).__name__, r("tempdir()")[0])
    exit_process(0)
