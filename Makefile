# make chapter: set up .venv and run D2L §16.4 end to end (prints test RMSE)
# make test:    set up .venv and run every test, notebooks included
# Both install everything on a fresh machine (CPU pip path, Python 3.11).
PYTHON ?= python3.11
VENV ?= .venv

.PHONY: chapter test benchmark

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -r requirements.txt
	touch $@

chapter: $(VENV)/.installed
	$(VENV)/bin/python -m d2lrec train

test: $(VENV)/.installed
	$(VENV)/bin/python -m pytest --nbval

benchmark: $(VENV)/.installed
	$(VENV)/bin/python benchmarks/chapter_speed.py
