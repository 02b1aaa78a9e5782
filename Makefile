# Quick start (Debian 12, as root, from the repo root):  make demo  |  make test
# Every install step is here and idempotent: a second run installs nothing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Debian's R stack; --no-install-recommends keeps it to what is needed.
DEBIAN_PACKAGES := r-base-core r-base-dev r-cran-reticulate r-cran-testthat r-cran-roxygen2 r-cran-magrittr \
	r-cran-knitr r-cran-markdown
# Debian's reticulate 1.28 cannot convert NumPy 2 arrays: the R-facing venv keeps NumPy 1.
R_FACING_PINS := "numpy<2" "ml_dtypes<0.6" "rpy2==3.5.17"

# JAX 0.10 needs NumPy >= 2: the JAX/PyTorch backend suite has a venv of its own (which
# also proves the package on NumPy 2). torch 2.13.0 CPU comes from the machine's wheel.
VENV_BACKENDS := .venv-backends
PY_BACKENDS := $(VENV_BACKENDS)/bin/python
BACKEND_PINS := "keras==3.15.1" "jax==0.10.*" "torch==2.13.0" "tensorflow==2.21.*" "numpy>=2" pytest hypothesis

# The compatibility points (docs/compatibility.md), each a venv from one of pyenv's Pythons:
# the oldest supported point (Keras' floor with the oldest TensorFlow and JAX it runs with, on
# the oldest Python), the newest releases on PyPI (2026-12-01), and the newest PyTorch this
# machine installs without a download (a CUDA build from its disk, on Python 3.11).
PYENV ?= $(or $(shell command -v pyenv 2>/dev/null),$(HOME)/.pyenv/bin/pyenv)
VENV_OLDEST := .venv-compat-oldest
OLDEST_PYTHON := 3.10
OLDEST_PINS := "keras==3.6.0" "tensorflow==2.16.1" "tf-keras==2.16.0" "jax[cpu]==0.4.18" "jaxlib==0.4.18" \
	"numpy==1.26.0" pytest hypothesis
VENV_NEWEST := .venv-compat-newest
NEWEST_PYTHON := 3.13
NEWEST_PINS := "keras==3.15.1" "tensorflow==2.21.0" "tf-keras==2.21.0" "jax[cpu]==0.12.0.1" "numpy==2.5.5" \
	pytest hypothesis
VENV_NEWEST_TORCH := .venv-compat-torch
NEWEST_TORCH_PINS := "keras==3.15.1" "torch==2.14.1" "numpy>=2" pytest hypothesis
# The layer's own suites (no R, no tf-keras needed but for migration).
LAYER_SUITES := tests/python/test_layer.py tests/python/test_conv_arguments.py tests/python/test_front_door.py
MIGRATION_SUITES := tests/python/test_migration.py tests/python/test_tf_keras_parity.py

# The export targets' own converters and runtimes, next to the same backends: a venv of their own.
VENV_EXPORT := .venv-export
PY_EXPORT := $(VENV_EXPORT)/bin/python
EXPORT_PINS := "keras==3.15.1" "jax==0.10.*" "torch==2.13.0" "tensorflow==2.21.*" "numpy>=2" pytest \
	"tf2onnx==1.17.*" "onnx==1.23.*" "onnxruntime==1.32.*" "onnxscript==0.7.*" "jax2onnx==0.17.*" \
	"ai-edge-litert==2.3.*" "openvino==2026.4.*" scipy

export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND := tensorflow
export RETICULATE_PYTHON := $(abspath $(PY))
# testthat skips the Python-backed tests "on CRAN" unless told otherwise; here a missing
# Python fails them instead of skipping them (tests/testthat/helper-python.R).
export NOT_CRAN := true
export LOCALLYCONNECTED_REQUIRE_PYTHON := true

# Runs pytest on $(1), with environment assignments $(2), in Python $(3) (.venv's if empty);
# "no tests collected" (exit 5) is a failure, not a pass.
define run_pytest
	rc=0; $(2) $(or $(3),$(PY)) -m pytest $(1) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests in $(1): failing" >&2; exit 1; fi; \
	exit $$rc
endef

# The R package as users get it: a tarball from R CMD build (which fills inst/python from
# python/), built from a copy holding only the package's files (R CMD build would first
# copy the whole tree, .venv included).
R_PACKAGE_FILES := DESCRIPTION NAMESPACE LICENSE .Rbuildignore R man inst python/locally_connected \
	vignettes tests/testthat.R tests/testthat demo/00Index demo/demo.R
R_SOURCES := DESCRIPTION NAMESPACE LICENSE $(wildcard R/*.R) $(wildcard vignettes/*.Rmd) \
	$(wildcard python/locally_connected/*.py python/locally_connected/*/*.py) $(wildcard tests/testthat/*.R)
R_VERSION_TAG := $(shell sed -n 's/^Version: //p' DESCRIPTION)
R_TARBALL := build/locallyconnected_$(R_VERSION_TAG).tar.gz
# A Python with Keras and TensorFlow but without the pip-installed locally_connected:
# .venv's packages seen through a .pth file, whose own .pth files (the editable install's)
# Python does not read. R CMD check runs with it, so the R package must bring its own copy.
PY_WITHOUT_PACKAGE := build/python-without-package/bin/python

.PHONY: install system-deps lint test test-python test-onednn test-r check-r test-backends test-scale-out \
	test-export test-compat demo bench bench-gpu clean

install: system-deps $(VENV)/.installed $(VENV)/.r-installed $(VENV_BACKENDS)/.installed $(VENV_EXPORT)/.installed \
	$(VENV_OLDEST)/.installed $(VENV_NEWEST)/.installed $(VENV_NEWEST_TORCH)/.installed

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

$(VENV_BACKENDS)/.installed: pyproject.toml Makefile
	test -x $(PY_BACKENDS) || $(PYTHON) -m venv $(VENV_BACKENDS)
	$(PY_BACKENDS) -m pip install -q --upgrade pip
	$(PY_BACKENDS) -m pip install -q -e . $(BACKEND_PINS)
	touch $@

$(VENV_EXPORT)/.installed: pyproject.toml Makefile
	test -x $(PY_EXPORT) || $(PYTHON) -m venv $(VENV_EXPORT)
	$(PY_EXPORT) -m pip install -q --upgrade pip
	$(PY_EXPORT) -m pip install -q -e . $(EXPORT_PINS)
	touch $@

# $(1): the venv, $(2): the pyenv Python version prefix (empty: python3), $(3): the pins.
define compat_venv
	python=$(PYTHON); if [ -n "$(2)" ]; then \
	  version=$$($(PYENV) latest $(2)) || { echo "pyenv has no Python $(2): see docs/compatibility.md" >&2; exit 1; }; \
	  python=$$($(PYENV) prefix $$version)/bin/python; fi; \
	test -x $(1)/bin/python || $$python -m venv $(1)
	$(1)/bin/python -m pip install -q --upgrade pip
	$(1)/bin/python -m pip install -q -e . $(3)
	touch $(1)/.installed
endef

$(VENV_OLDEST)/.installed: pyproject.toml Makefile
	$(call compat_venv,$(VENV_OLDEST),$(OLDEST_PYTHON),$(OLDEST_PINS))

$(VENV_NEWEST)/.installed: pyproject.toml Makefile
	$(call compat_venv,$(VENV_NEWEST),$(NEWEST_PYTHON),$(NEWEST_PINS))

$(VENV_NEWEST_TORCH)/.installed: pyproject.toml Makefile
	$(call compat_venv,$(VENV_NEWEST_TORCH),,$(NEWEST_TORCH_PINS))

# roxygen2 output must be up to date before the build.
$(R_TARBALL): $(R_SOURCES) | system-deps $(VENV)/.installed
	Rscript -e 'roxygen2::roxygenise()'
	rm -rf build/rpkg && mkdir -p build/rpkg/locallyconnected
	cp -r --parents $(R_PACKAGE_FILES) build/rpkg/locallyconnected/
	cd build && R CMD build rpkg/locallyconnected

# The R package, installed from its tarball into R's site library.
$(VENV)/.r-installed: $(R_TARBALL)
	R CMD INSTALL $(R_TARBALL)
	touch $@

$(PY_WITHOUT_PACKAGE): $(VENV)/.installed
	rm -rf build/python-without-package
	$(PY) -m venv --without-pip build/python-without-package
	$(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
	  > "$$($(PY_WITHOUT_PACKAGE) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/venv-packages.pth"
	$(PY_WITHOUT_PACKAGE) -c 'import importlib.util as u; assert u.find_spec("keras") and not u.find_spec("locally_connected")'

test: install lint test-python test-onednn test-r check-r test-backends test-scale-out test-export test-compat

# ruff, configured in pyproject.toml, on every Python file of the repository.
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check python tests bench docs/examples demo

# Python tests, including R<->Python parity through rpy2 (needs the R package). oneDNN off:
# TensorFlow turns it on by itself on CPUs with AVX-512 VNNI/AMX, and test-onednn covers it.
test-python: $(VENV)/.installed $(VENV)/.r-installed
	$(call run_pytest,tests/python,TF_ENABLE_ONEDNN_OPTS=0 PYTHONFAULTHANDLER=1)

# The layer's math once more with TensorFlow's oneDNN kernels, TensorFlow's default on CPUs
# with AVX-512 VNNI/BF16 or AMX (off on this AVX2 CI machine unless asked for).
test-onednn: $(VENV)/.installed
	$(call run_pytest,tests/python/test_layer.py tests/python/test_tf_keras_parity.py tests/python/test_properties.py,TF_ENABLE_ONEDNN_OPTS=1)

test-r: $(VENV)/.r-installed
	Rscript -e 'testthat::test_dir("tests/testthat", package = "locallyconnected", load_package = "installed", reporter = testthat::ProgressReporter$$new(show_praise = FALSE), stop_on_failure = TRUE)'

# The same backend suite once per Keras backend, each in its own pytest process.
test-backends: $(VENV_BACKENDS)/.installed
	$(call run_backends,$(PY_BACKENDS),jax torch tensorflow)

# Runs suite $(3) (tests/backends by default) in Python $(1) once per Keras backend in $(2),
# each in its own pytest process; "no tests collected" is a failure.
define run_backends
	for backend in $(2); do \
	  echo "== $(1), KERAS_BACKEND=$$backend"; \
	  rc=0; KERAS_BACKEND=$$backend $(1) -m pytest $(or $(3),tests/backends) || rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests in $(or $(3),tests/backends): failing" >&2; exit 1; fi; \
	  [ $$rc -eq 0 ] || exit $$rc; \
	done
endef

# The tested version matrix of docs/compatibility.md beyond the main point: the oldest and
# newest supported points, the newest PyTorch, and Keras' inference-only numpy and
# openvino backends.
test-compat: $(VENV_OLDEST)/.installed $(VENV_NEWEST)/.installed $(VENV_NEWEST_TORCH)/.installed \
		$(VENV_BACKENDS)/.installed $(VENV_EXPORT)/.installed
	$(call run_pytest,$(LAYER_SUITES) $(MIGRATION_SUITES),TF_ENABLE_ONEDNN_OPTS=0,$(VENV_OLDEST)/bin/python)
	$(call run_backends,$(VENV_OLDEST)/bin/python,jax tensorflow)
	$(call run_backends,$(VENV_OLDEST)/bin/python,tensorflow jax,tests/export -k 'tf_saved_model or tfsm_layer')
	$(call run_pytest,$(LAYER_SUITES),TF_ENABLE_ONEDNN_OPTS=0,$(VENV_NEWEST)/bin/python)
	$(call run_backends,$(VENV_NEWEST)/bin/python,jax tensorflow)
	$(call run_backends,$(VENV_NEWEST_TORCH)/bin/python,torch)
	$(call run_pytest,tests/inference,KERAS_BACKEND=numpy,$(PY_BACKENDS))
	$(call run_pytest,tests/inference,KERAS_BACKEND=openvino,$(PY_EXPORT))

# Every export target of docs/deploy.md, once per Keras backend, run by the target's runtime.
test-export: $(VENV_EXPORT)/.installed
	$(call run_backends,$(PY_EXPORT),tensorflow jax torch,tests/export)

# The recipes of docs/scale-out.md, run as they are: 4 virtual CPU devices (JAX model
# parallel) and 2 worker processes on 127.0.0.1 (JAX data parallel, TensorFlow multi-worker).
test-scale-out: $(VENV_BACKENDS)/.installed
	$(call run_pytest,tests/scale_out,,$(PY_BACKENDS))

# R CMD check of the same tarball must end with no ERROR, no WARNING and no NOTE but the
# one saying that keras3 (suggested, for the examples and the vignette) is not installed
# here; its tests run with a Python that lacks the pip-installed package.
check-r: $(VENV)/.r-installed $(PY_WITHOUT_PACKAGE)
	rm -rf build/rcheck && mkdir -p build/rcheck
	cd build/rcheck && RETICULATE_PYTHON=$(abspath $(PY_WITHOUT_PACKAGE)) _R_CHECK_FORCE_SUGGESTS_=false \
	  R CMD check --no-manual ../$(notdir $(R_TARBALL))
	@log=build/rcheck/locallyconnected.Rcheck/00check.log; \
	notes=$$(grep -c '\.\.\. NOTE$$' $$log || true); \
	keras3_note=$$(grep -A1 'checking package dependencies \.\.\. NOTE$$' $$log \
	  | grep -c '^Package suggested but not available for checking: .keras3.$$' || true); \
	if grep -E "^Status: .*(ERROR|WARNING)" $$log || [ "$$notes" -ne "$$keras3_note" ]; then \
	  echo "R CMD check: not clean, see $$log" >&2; exit 1; fi; \
	grep "^Status" $$log

demo: install
	$(PY) demo/demo.py
	Rscript demo/demo.R

# Speed and memory against tf-keras: table, CSV and PNG under bench/results/.
# Three configurations: TensorFlow as it comes on this CPU; with its oneDNN kernels on; and
# "tuned" (ours only): XLA plus a malloc that keeps freed memory (bench/run.py says why).
# Last, the batched matmul alone under JAX and PyTorch: the most any backend's kernels allow.
# Then, per Keras backend, ours against what that backend's users would otherwise write (flax's
# ConvLocal on JAX, F.unfold + einsum on PyTorch), a Conv of the same shape and the batched
# matmul alone, with each variant's peak memory on DeepFace's L4 layer, and the same again with
# glibc's malloc keeping freed memory; last, "auto" against our fastest implementation on a
# grid of shapes beyond the cases.
bench: install $(VENV_BACKENDS)/.bench-installed
	cd bench && ../$(PY) run.py --config default && ../$(PY) run.py --config onednn \
		&& ../$(PY) run.py --config tuned && ../$(PY_BACKENDS) ceiling_backends.py \
		&& ../$(PY_BACKENDS) backends.py && ../$(PY_BACKENDS) backends.py --keep-freed-memory \
		&& ../$(PY_BACKENDS) calibrate.py

# The backends part on a CUDA machine (not CI's): its own venv with the CUDA builds of the
# same versions (downloads of several GB), every backend on the GPU or the run stops, at most
# 150 s of timing per backend; writes bench/results/backends-gpu.md.
VENV_GPU := .venv-gpu
GPU_PINS := "keras==3.15.1" "jax[cuda12]==0.10.*" "torch==2.13.0" "tensorflow[and-cuda]==2.21.*" "numpy>=2" \
	"flax==0.12.*"
$(VENV_GPU)/.installed: pyproject.toml Makefile
	test -x $(VENV_GPU)/bin/python || $(PYTHON) -m venv $(VENV_GPU)
	$(VENV_GPU)/bin/python -m pip install -q --upgrade pip
	$(VENV_GPU)/bin/python -m pip install -q -e . $(GPU_PINS)
	touch $@

bench-gpu: $(VENV_GPU)/.installed
	cd bench && timeout 480 ../$(VENV_GPU)/bin/python backends.py --gpu --repeats 3 --time-limit 150

# flax is the JAX peer of the benchmark only: the test venv does without it.
$(VENV_BACKENDS)/.bench-installed: $(VENV_BACKENDS)/.installed
	$(PY_BACKENDS) -m pip install -q "flax==0.12.*"
	touch $@

clean:
	rm -rf $(VENV) $(VENV_BACKENDS) $(VENV_EXPORT) $(VENV_OLDEST) $(VENV_NEWEST) $(VENV_NEWEST_TORCH) $(VENV_GPU) build \
	  python/*.egg-info
