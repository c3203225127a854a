# make chapter: set up a venv and run D2L §16.4 end to end (test RMSE)
# make chapter GPU=1: the same on an NVIDIA GPU, in .venv-cu112 (the GPU
#               stack, d2lrec/stack-cu112.txt; docs/gpu.md), --device gpu
# make test:    print what will and won't run here, run it, sum it up:
#               every test, every notebook once, and where this machine
#               can, the second stack, an emulated CPU, Colab, the GPU
#               stack and the browser (docs/install.md#make-test)
# make test STRICT=1: the same, but a part that can't run is an error (CI)
#
# PYTHON: Python 3.11 to 3.15; by default the first of python3.11,
# python3.12, python3.13, python3.14, python3.15 and python3 that runs, or
# `make chapter PYTHON=/path/to/py`.  Python 3.11 gets both environments:
# .venv (requirements.txt, the book's pins, numpy 1.23.5), its main one,
# and .venv-numpy2 (requirements-numpy2.txt, numpy 2); the others only
# the second (numpy 1.23.5 has no wheels for them).  An older Python
# stops at once, saying which ones work (d2lrec/_compat.py), before
# anything is made; a newer one is tried, with a warning.
runs = $(shell $(1) -c '' 2>/dev/null && command -v $(1))
version = $(shell $(1) -c 'import sys; print("%d.%d" % sys.version_info[:2])' \
	2>/dev/null)
# Python 3.$(1): python3.$(1) on the PATH, else pyenv's newest 3.$(1), if
# either runs.
PYENV_VERSIONS := $(or $(shell pyenv root 2>/dev/null),$(HOME)/.pyenv)/versions
python_3 = $(call runs,$(lastword python3.$(1) \
	$(wildcard $(PYENV_VERSIONS)/3.$(1).*/bin/python3.$(1))))
ifndef PYTHON
PYTHON := $(firstword $(foreach p,$(addprefix python3.,11 12 13 14 15) \
	python3,$(call runs,$(p))))
endif
NO_PYTHON = no python3.11 to python3.15 or python3 runs here; install \
	Python 3.11 to 3.15, or set PYTHON=/path/to/python
PY := $(if $(PYTHON),$(call version,$(PYTHON)))
VENV ?= .venv
VENV2 ?= .venv-numpy2
VENVGPU ?= .venv-cu112

ifeq ($(PY),3.11)
MAIN_VENV := $(VENV)
else
MAIN_VENV := $(VENV2)
endif
MAIN := $(MAIN_VENV)/.installed-$(PY)

# The Colab test needs Colab's Python, 3.12, and the next Colab's, 3.13,
# each from the PATH or pyenv; COLAB_PYTHONS="/path/to/python3.12
# /path/to/python3.13" sets them.
ifndef COLAB_PYTHONS
COLAB_PYTHONS := $(strip $(foreach v,12 13,$(call python_3,$(v))))
endif

.PHONY: chapter test test-unit test-notebooks test-stack stack-venv test-isa \
	test-colab test-gpu-stack test-browser benchmark peers derive-blend \
	routes how-far reference assignment check-python

check-python:
	@test -n "$(PYTHON)" || { echo "d2lrec: error: $(NO_PYTHON)" >&2; \
		exit 1; }
	@$(PYTHON) d2lrec/_compat.py
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { echo "d2lrec:" \
		"error: $(PYTHON) cannot make venvs; install its venv module" \
		"(Debian, Ubuntu: apt-get install python$(PY)-venv)" >&2; exit 1; }

# A venv is made whole or not at all: a failed install removes it.  The
# stamp names the Python minor version, so another Python remakes it.
$(VENV)/.installed-$(PY): requirements.txt pyproject.toml | check-python
	$(PYTHON) -m venv --clear $(VENV)
	$(VENV)/bin/python -m pip install -r requirements.txt \
		|| { rm -rf $(VENV); exit 1; }
	touch $@

# requirements-numpy2.txt pins every package, so it installs as a whole
# with --no-deps, the only way to keep mxnet's numpy < 2 and d2l 1.0.3's
# own pins (numpy 1.23.5, ...) out; see its header.  The venv ignores
# itself for git.
$(VENV2)/.installed-$(PY): requirements-numpy2.txt d2lrec/stack.txt \
		pyproject.toml | check-python
	$(PYTHON) -m venv --clear $(VENV2)
	printf '*\n' > $(VENV2)/.gitignore
	$(VENV2)/bin/python -m pip install --no-deps \
		-r requirements-numpy2.txt || { rm -rf $(VENV2); echo \
		"d2lrec: error: the numpy 2 stack did not install on Python" \
		"$(PY) (above: pip's reason); d2lrec is tested on Python" \
		"3.11 to 3.15" >&2; exit 1; }
	touch $@

# The GPU stack, by pip alone: mxnet-cu112 and NVIDIA's CUDA 11 wheels
# (about 4 GB), which `import d2lrec` loads for mxnet (d2lrec/_cuda.py).
$(VENVGPU)/.installed-$(PY): d2lrec/stack-cu112.txt pyproject.toml \
		| check-python
	$(PYTHON) -m venv --clear $(VENVGPU)
	printf '*\n' > $(VENVGPU)/.gitignore
	$(VENVGPU)/bin/python -m pip install --no-deps \
		-r d2lrec/stack-cu112.txt -e . || { rm -rf $(VENVGPU); exit 1; }
	touch $@

ifdef GPU
chapter: check-python $(VENVGPU)/.installed-$(PY)
	$(VENVGPU)/bin/python -m d2lrec train --device gpu
else
chapter: check-python $(MAIN)
	$(MAIN_VENV)/bin/python -m d2lrec train
endif

# make test: tools/make_test.py prints what will and won't run here, and
# why, runs each part below (each is a make target of its own), and sums
# up.  STRICT=1 (CI) makes a part that cannot run an error, at once.
# GPU=1 builds and tests the GPU stack without a GPU.
test: check-python
	@$(PYTHON) tools/make_test.py --py $(PY) --stack-py $(STACK_PY) \
		$(if $(STRICT),--strict) \
		$(if $(GPU),--gpu) --isa '$(ISA)' --colab-python '$(COLAB_PYTHONS)'

# Every unit test, on the real data where $$D2LREC_DATA_DIR has it.
test-unit: $(MAIN)
	$(MAIN_VENV)/bin/python -m pytest tests

# The teacher's check: every notebook against its committed outputs.
# --nbval-current-env: the notebooks run on this venv's Python, whatever
# kernel named python3 is installed elsewhere.
test-notebooks: $(MAIN)
	$(MAIN_VENV)/bin/python -m pytest --nbval --nbval-current-env notebooks

# The second stack, numpy 2 (Python 3.11 only, where .venv has the book's
# stack to compare with): every unit test but the assignment's (graded
# in .venv, which has nbgrader), the chapter, MF and U-AutoRec epoch by
# epoch against .venv's (tests/test_across.py), and every notebook; make
# test leaves the notebooks out, with STACK_NOTEBOOKS empty, where it has
# no data.  Its venv is made by STACK_PYTHON, so that one run checks the
# book's Python and numpy against a current pair.
STACK_NOTEBOOKS ?= notebooks
test-stack: $(VENV)/.installed-$(PY) stack-venv
	D2LREC_OTHER_PYTHON=$(VENV)/bin/python \
		$(VENV2)/bin/python -m pytest tests \
		--ignore=tests/test_assignment.py
	$(if $(STACK_NOTEBOOKS),$(VENV2)/bin/python -m pytest --nbval \
		--nbval-current-env $(STACK_NOTEBOOKS))

# STACK_PYTHON: the newest Python 3.12 to 3.15 on the PATH or in pyenv,
# else PYTHON.  stack-venv makes .venv-numpy2 with it.
ifndef STACK_PYTHON
STACK_PYTHON := $(lastword $(PYTHON) $(foreach v,12 13 14 15,$(call \
	python_3,$(v))))
endif
STACK_PY := $(call version,$(STACK_PYTHON))
stack-venv: check-python
	@$(MAKE) --no-print-directory $(VENV2)/.installed-$(STACK_PY) \
		PYTHON=$(STACK_PYTHON)

# Another CPU, emulated: mxnet's oneDNN limited to ISA (AVX2, as on CPUs
# without AVX-512; SSE41 for older ones) and OpenBLAS to OPENBLAS_CORE's
# kernels (Haswell: AVX2; Nehalem: SSE4).  Notebooks 02 and 05 against
# their committed outputs, and the runs of notebook 03 that move most
# between CPUs (tests/test_across.py), within the notebooks' tolerances
# (notebooks/conftest.py).  make test runs it only on a CPU with AVX-512,
# where AVX2 is something to emulate.
ISA ?= AVX2
OPENBLAS_CORE ?= Haswell
ISA_NOTEBOOKS := notebooks/02-autorec.ipynb \
	notebooks/05-autorec-playground.ipynb
test-isa: $(MAIN)
	DNNL_MAX_CPU_ISA=$(ISA) OPENBLAS_CORETYPE=$(OPENBLAS_CORE) \
		D2LREC_ISA_TEST=1 $(MAIN_VENV)/bin/python -m pytest --nbval \
		--nbval-current-env tests/test_across.py $(ISA_NOTEBOOKS)

# Today's Colab and the next, simulated: tests/test_colab_runtime.py (see
# its header).
test-colab: $(MAIN)
	D2LREC_COLAB_PYTHONS='$(COLAB_PYTHONS)' \
		$(MAIN_VENV)/bin/python -m pytest tests/test_colab_runtime.py

# Debian's own Pythons, as readers have them: tests/test_debian.py (see
# its header) makes a Debian 13 root and a sid root with debootstrap,
# keeps them under D2LREC_CACHE (~/.cache/d2lrec, about 4 GB), and runs
# make chapter (Debian 13), make chapter PYTHON=python3.14 (3.15) there
# from a fresh clone; every epoch against the book's stack (.venv, so
# with Python 3.11 only), and notebooks 01 and 02.  As root, with
# debootstrap (apt-get install debootstrap).  -rP: it prints each step's
# time and each Python's version.
BOOK_PYTHON = $(if $(filter 3.11,$(PY)),$(VENV)/bin/python)
.PHONY: test-debian
test-debian: $(MAIN)
	D2LREC_DEBIAN_TEST=1 D2LREC_BOOK_PYTHON=$(BOOK_PYTHON) \
		$(MAIN_VENV)/bin/python -m pytest -rP tests/test_debian.py

# The GPU stack, proven up to the driver: tests/test_gpu_stack.py (see
# its header) builds its venv under D2LREC_CACHE (~/.cache/d2lrec) and
# reuses it while d2lrec/stack-cu112.txt and the Python stay the same.
# It runs in .venv-numpy2, the CPU stack that the GPU stack mirrors, on
# the same Python.
test-gpu-stack: stack-venv
	D2LREC_GPU_PYTHON=$(STACK_PYTHON) \
		$(VENV2)/bin/python -m pytest tests/test_gpu_stack.py

# The playground in a real browser (tests/test_browser.py): JupyterLab and
# Selenium from .venv, Debian's chromium and chromium-driver (apt-get
# install chromium chromium-driver; .ci/run installs them).  Screenshots
# go to $(ARTIFACTS).
ARTIFACTS ?= build/test-artifacts
test-browser: $(VENV)/.installed-$(PY)
	D2LREC_BROWSER_TEST=1 D2LREC_ARTIFACTS=$(ARTIFACTS) \
		$(VENV)/bin/python -m pytest tests/test_browser.py

# The playground's reference numbers, d2lrec/lab/reference.csv, from notebook
# 03's committed outputs (tools/reference.py).  Run it after editing
# notebook 03 or executing it again; a test checks it.
reference: $(VENV)/.installed-$(PY)
	$(VENV)/bin/python tools/reference.py

# The classroom assignment's student edition (docs/classroom.md):
# nbgrader's generate_assignment makes assignments/release/autorec/ from
# assignments/source/autorec/.  Run it after editing the source; a test
# checks it.  nbgrader finds alembic and the kernel on the PATH.
assignment: $(VENV)/.installed-$(PY)
	cd assignments && PATH="$(abspath $(VENV))/bin:$$PATH" nbgrader \
		generate_assignment autorec --no-db --force

benchmark: $(VENV)/.installed-$(PY)
	$(VENV)/bin/python benchmarks/chapter_speed.py

# AutoRec beside Surprise's classic peers on the same splits
# (benchmarks/peers.py; docs/results.md).  Surprise needs a newer numpy
# than the book's stack, so it gets a venv of its own, for this only.
PEERS_VENV ?= .venv-peers
$(PEERS_VENV)/.installed-$(PY): benchmarks/requirements-peers.txt \
		| check-python
	$(PYTHON) -m venv --clear $(PEERS_VENV)
	printf '*\n' > $(PEERS_VENV)/.gitignore
	$(PEERS_VENV)/bin/python -m pip install \
		-r benchmarks/requirements-peers.txt \
		|| { rm -rf $(PEERS_VENV); exit 1; }
	touch $@

peers: $(VENV)/.installed-$(PY) $(PEERS_VENV)/.installed-$(PY)
	nice $(VENV)/bin/python benchmarks/peers.py \
		--peers-python $(PEERS_VENV)/bin/python

# --preset blend derived from scratch on u1's validation split: every
# member's search, the members and the nets, logged to
# d2lrec/results/blend_search.csv (benchmarks/derive_blend.py).
derive-blend: $(VENV)/.installed-$(PY)
	nice $(VENV)/bin/python benchmarks/derive_blend.py

# Two routes toward the blend's goals, side information and a
# GLocal-K-style member, measured on the same validation split
# (benchmarks/routes.py; d2lrec/results/routes.csv, docs/results.md).
routes: $(VENV)/.installed-$(PY)
	nice $(VENV)/bin/python benchmarks/routes.py

# How far AutoRec goes: each step from the chapter's settings to
# --preset blend on every protocol (benchmarks/how_far.py; notebook 06,
# docs/results.md).
how-far: $(VENV)/.installed-$(PY)
	nice $(VENV)/bin/python benchmarks/how_far.py
