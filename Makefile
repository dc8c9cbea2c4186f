# voicelab: the two commands of the README, plus a few conveniences.
#   make run    environment + system synthesizers + corpus + every notebook (quick profile)
#   make test   the whole test suite (notebooks in the smoke profile), both Keras backends
#   make lab    JupyterLab on the kit

PYTHON  ?= python3
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.voicelab-installed
PROFILE ?= quick
OUT     ?= outputs/$(shell date +%Y-%m-%d_%H%M)

.PHONY: run test lab install system-deps corpus notebooks bench clean-outputs

run: install
	$(PY) -m voicelab corpus --profile $(PROFILE) --out data/corpus-$(PROFILE)
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --data-dir data --out $(OUT)

test: install
	KERAS_BACKEND=tensorflow $(PY) -m pytest
	KERAS_BACKEND=torch $(PY) -m pytest -m backend -p no:cacheprovider

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
	$(PY) scripts/run_notebooks.py --profile $(PROFILE) --data-dir data --out $(OUT)

bench: install
	$(PY) benchmarks/griffin_lim.py

clean-outputs:
	rm -rf outputs
