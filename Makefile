# gpve.cluster: one entry point for setup, tests, the testbed and benchmarks.
# `make test` works on a fresh Debian machine: it installs what it needs first.

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
# The collection must sit at ansible_collections/gpve/cluster for Python imports and Ansible.
COLLECTIONS := .build/collections
COLLECTION_LINK := $(COLLECTIONS)/ansible_collections/gpve/cluster
SANITY_TREE := .build/sanity/ansible_collections/gpve/cluster
export ANSIBLE_COLLECTIONS_PATH := $(CURDIR)/$(COLLECTIONS)
export PYTHONPATH := $(CURDIR)/$(COLLECTIONS)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: test setup system-deps venv kube-binaries collection lint sanity pytest bench \
        testbed-up testbed-down build clean demo

test: setup lint sanity pytest

setup: system-deps venv kube-binaries collection

system-deps:
	bash tests/testbed/scripts/install-system-packages.sh

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-lock.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt -c requirements-lock.txt
	touch $@

# Every binary, the machine image and the image bundles the testbed needs (cached in
# ~/.cache/gpve-testbed; the first build prints how long each part took).
kube-binaries: venv
	$(PY) -m tests.testbed build

collection:
	mkdir -p $(dir $(COLLECTION_LINK))
	ln -sfn $(CURDIR) $(COLLECTION_LINK)

lint: venv collection
	$(BIN)/ansible-lint --profile production --offline

# ansible-test wants a real ansible_collections/<ns>/<name> tree, under git, as its working
# directory. Its per-test venvs bootstrap pip with a script from outside the package
# registries: tests/sanity/get_pip_offline.py does that job from ensurepip instead.
ANSIBLE_TEST_PIP = $(shell sed -n "s/.*pip='\([0-9.]*\)'.*/\1/p" $(VENV)/lib/python3.11/site-packages/ansible_test/_internal/python_requirements.py)
sanity: venv
	mkdir -p $(HOME)/.ansible/test/cache
	cp tests/sanity/get_pip_offline.py $(HOME)/.ansible/test/cache/get_pip_$(subst .,_,$(ANSIBLE_TEST_PIP)).py
	rm -rf .build/sanity && mkdir -p $(SANITY_TREE)
	rsync -a --exclude-from=.sanity-exclude ./ $(SANITY_TREE)/
	cd $(SANITY_TREE) && git init -q && git add -A
	cd $(SANITY_TREE) && $(CURDIR)/$(BIN)/ansible-test sanity --python 3.11 --color no

pytest: setup
	$(PY) -m pytest tests

bench: setup
	for b in bench/*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

testbed-up: setup
	$(PY) -m tests.testbed up

testbed-down:
	$(PY) -m tests.testbed down

# The collection end to end on the testbed (tests/demo/README.md): reuses a running testbed, else starts one and
# stops it at the end; KEEP=1 leaves the testbed and the demo cluster running; HA=1: 3 control planes + LB VM + 2 workers.
demo: setup
	$(PY) -m tests.demo $(if $(KEEP),--keep) $(if $(HA),--ha)

build: venv
	mkdir -p .build/dist
	$(BIN)/ansible-galaxy collection build --force --output-path .build/dist

clean:
	rm -rf .build .pytest_cache
