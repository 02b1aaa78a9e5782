# Quick start (Debian 12, as root, from the repo root):  make demo  |  make test
# Every install step is here and idempotent: a second run installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian's R stack; --no-install-recommends keeps it to what is needed.
DEBIAN_PACKAGES := r-base-core r-base-dev r-cran-reticulate r-cran-testthat r-cran-roxygen2 r-cran-magrittr
# Debian's reticulate 1.28 cannot convert NumPy 2 arrays: the R-facing venv keeps NumPy 1.
R_FACING_PINS := "numpy<2" "ml_dtypes<0.6" "rpy2==3.5.17"

export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND := tensorflow
export RETICULATE_PYTHON := $(abspath $(PY))

# Runs pytest; "no tests collected" (exit 5) is a failure, not a pass.
define run_pytest
	rc=0; $(PY) -m pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests in $(1): failing" >&2; exit 1; fi; \
	exit $$rc
endef

.PHONY: install system-deps test test-python demo clean

install: system-deps $(VENV)/.installed

system-deps:
	@missing=$$(for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages: $$missing"; \
	  apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(VENV)/.installed: pyproject.toml Makefile | system-deps
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]" $(R_FACING_PINS)
	touch $@

test: install test-python

test-python: $(VENV)/.installed
	$(call run_pytest,tests/python)

demo: install
	$(PY) demo/demo.py

clean:
	rm -rf $(VENV) build python/*.egg-info
