"""The version of locally_connected and of the R package locallyconnected (DESCRIPTION).

The one place the Python version is written: pyproject.toml reads it from here, and a test
checks that DESCRIPTION's `Version:` and the installed metadata equal it.
"""

__version__ = "0.1.0"
