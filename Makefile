# Two entry points, both working on a fresh machine (they install what they need first):
#   make quickstart   train, export, serve, benchmark and promote the quickstart with an embedded Triton
#   make test         lint, type-check and run the whole test suite (real Triton, real kube-apiserver)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= runs/quickstart

.PHONY: quickstart test e2e lint typecheck envtest install crds

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[operator,ml,dev]'
	touch $@

install: $(BIN)/.installed

quickstart: install
	$(BIN)/frontier run examples/quickstart.yaml --workdir $(WORKDIR)

# The CRD is generated from the pydantic API; the chart ships the same file (tests check both).
crds: install
	$(BIN)/frontier crd -o crds/classifiermodel.yaml
	cp crds/classifiermodel.yaml helm/frontier/crds/classifiermodel.yaml

envtest:
	bash .ci/build-envtest.sh
	bash .ci/build-helm.sh

lint: install
	$(BIN)/ruff check frontier tests bench examples
	$(BIN)/ruff format --check frontier
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

test: install envtest lint typecheck
	FRONTIER_REQUIRE_ENVTEST=1 $(BIN)/python -m pytest -q --timeout=900

# Helm install to a promoted model on a real single-node cluster with real pods (root; see README "End to end").
e2e: install
	bash .ci/e2e/run.sh
