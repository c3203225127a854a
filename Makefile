# make chapter: set up .venv and run D2L §16.4 end to end (prints test RMSE)
# make test:    set up both environments and run every test, notebooks
#               included, in each: .venv (requirements.txt, the book's pins,
#               numpy 1.23.5) and .venv-numpy126 (requirements-numpy126.txt:
#               numpy 1.26, current IPython, matplotlib and pandas)
# Both install everything on a fresh machine (CPU pip path, Python 3.11).
PYTHON ?= python3.11
VENV ?= .venv
VENV126 ?= .venv-numpy126

.PHONY: chapter test test-main test-numpy126 benchmark

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -r requirements.txt
	touch $@

# requirements-numpy126.txt pins every package, so it installs as a whole
# with --no-deps, the only way to keep d2l 1.0.3's own pins (numpy 1.23.5,
# ...) out; see its header.  The venv ignores itself for git.
$(VENV126)/.installed: requirements-numpy126.txt pyproject.toml
	$(PYTHON) -m venv --clear $(VENV126)
	printf '*\n' > $(VENV126)/.gitignore
	$(VENV126)/bin/python -m pip install --no-deps -r requirements-numpy126.txt
	touch $@

chapter: $(VENV)/.installed
	$(VENV)/bin/python -m d2lrec train

test: test-main test-numpy126

test-main: $(VENV)/.installed
	$(VENV)/bin/python -m pytest --nbval

# --nbval-current-env: the notebooks run on this venv's Python, whatever
# kernel named python3 is installed elsewhere.  TESTS126 (default: all of
# pyproject.toml's testpaths) can narrow this run, e.g. to
# TESTS126='tests notebooks/01-movielens.ipynb notebooks/02-autorec.ipynb'.
TESTS126 ?=
test-numpy126: $(VENV126)/.installed
	$(VENV126)/bin/python -m pytest --nbval --nbval-current-env $(TESTS126)

benchmark: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/chapter_speed.py
