# voicelab: the two commands of the README, plus a few conveniences.
#   make run    environment + system synthesizers + corpus + every notebook (quick profile)
#   make run ONLY=03            one notebook, and whatever it needs that is not trained yet
#   make run PROFILE=smoke      the five-minute tour
#   make test   the whole test suite (notebooks in the smoke profile), both Keras backends
#   make lab    JupyterLab on the kit

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.voicelab-installed
PROFILE ?= quick
OUT     ?= outputs/$(shell date +%Y-%m-%d_%H%M)
ONLY    ?=
ONLY_ARG := $(if $(ONLY),--only $(ONLY),)

.PHONY: run test lab install system-deps corpus notebooks bench clean-outputs

run: install
	$(PY) -m voicelab corpus --profile $(PROFILE) --out data/corpus-$(PROFILE)
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --data-dir data --out $(OUT) $(ONLY_ARG)

# One pytest-xdist worker per core (at most 4: the notebooks' worker sets the pace), one
# compute thread each (tests/conftest.py); the notebooks stay together on one worker, in
# the registry's order (voicelab/registry.py: 03 uses the model 02 trained). `make test TEST_WORKERS=1` runs on one process.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST  := $(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

test: install
	KERAS_BACKEND=tensorflow $(PYTEST)
	KERAS_BACKEND=torch $(PYTEST) -m backend -p no:cacheprovider

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

install: $(STAMP)

# The environment is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml scripts/install_system_deps.sh
	bash scripts/install_system_deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[all]"
	$(PY) -m pip install --quiet --no-deps resemblyzer==0.1.4
	touch $(STAMP)

system-deps:
	bash scripts/install_system_deps.sh

corpus: install
	$(PY) -m voicelab corpus --profile $(PROFILE) --out data/corpus-$(PROFILE)

notebooks: install
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --data-dir data --out $(OUT) $(ONLY_ARG)

bench: install
	$(PY) benchmarks/griffin_lim.py

clean-outputs:
	rm -rf outputs
