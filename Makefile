# lambda-ops-mcp — every task a newcomer or CI needs. `make serve` and `make test` work on a fresh clone.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda runs python3.13: develop and test on it when this machine has it (pyenv), else on python3.
PYTHON_BOOTSTRAP ?= $(shell PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null || command -v python3.13 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
TOOLS := .venv-tools
CHECKS := .venv-checks
PORT ?= 3000
NODE_DIR := tests/clients

.PHONY: help venv tools checks-venv node-deps serve serve-aws serve-auth lint fmt typecheck test test-fast build validate checks bench clean

help:
	@echo "make serve   run the MCP server on http://127.0.0.1:$(PORT)/mcp against the embedded sandbox account"
	@echo "make serve-auth  the same with sign-in on, against a local authorization server (oidc-provider)"
	@echo "make test    lint, type-check, build and validate the SAM app, run the whole test suite"
	@echo "make bench   cold start, warm latency and output-size benchmarks"

# Constrained by the Lambda lock: tests run on exactly the versions the artifact ships.
$(VENV)/.installed: pyproject.toml requirements-lambda.txt
	$(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -q --disable-pip-version-check -c requirements-lambda.txt -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

# SAM CLI and cfn-lint pin their own dependency ranges: they live in a venv of their own.
$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON_BOOTSTRAP) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --disable-pip-version-check -r requirements-tools.txt
	touch $@

tools: $(TOOLS)/.installed

# checkov, zizmor and check-jsonschema: their own venv (requirements-checks.txt says why).
$(CHECKS)/.installed: requirements-checks.txt
	$(PYTHON_BOOTSTRAP) -m venv $(CHECKS)
	$(CHECKS)/bin/python -m pip install -q --disable-pip-version-check -r requirements-checks.txt
	touch $@

checks-venv: $(CHECKS)/.installed

$(NODE_DIR)/node_modules/.installed: $(NODE_DIR)/package.json $(NODE_DIR)/package-lock.json
	cd $(NODE_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

node-deps: $(NODE_DIR)/node_modules/.installed

serve: venv
	$(PY) -m app.local --port $(PORT)

serve-aws: venv
	$(PY) -m app.local --port $(PORT) --backend aws

# Sign-in on: npm oidc-provider on loopback (tests/clients/auth-server.mjs) is the authorization server.
serve-auth: venv node-deps
	$(PY) -m app.local --port $(PORT) --auth local

lint: venv
	$(VENV)/bin/ruff check app tests bench scripts
	$(VENV)/bin/ruff format --check app tests bench scripts

fmt: venv
	$(VENV)/bin/ruff format app tests bench scripts
	$(VENV)/bin/ruff check --fix app tests bench scripts

typecheck: venv
	$(VENV)/bin/mypy

# --build-in-source: SAM would otherwise copy the whole CodeUri (.venv, .venv-tools, node_modules: ~1 GB)
# to a scratch directory first (22 s instead of 7 s); scripts/build_lambda.sh writes only to the artifact.
build: venv tools
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" SAM_CLI_TELEMETRY=0 sam build --build-in-source --template-file template.yaml --build-dir .aws-sam/build

validate: tools
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 sam validate --lint --template-file template.yaml
	$(TOOLS)/bin/cfn-lint --append-rules cfn_lint_serverless.rules -- template.yaml $(wildcard infra/*.yaml)

# Offline: checkov without its platform download, zizmor without GitHub's API, the schemas bundled.
checks: checks-venv
	$(CHECKS)/bin/checkov --framework cloudformation --skip-download --compact --quiet \
		$(addprefix -f ,template.yaml $(wildcard infra/*.yaml))
	$(CHECKS)/bin/zizmor --offline .github/
	$(CHECKS)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(CHECKS)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

test: venv node-deps lint typecheck validate checks build
	$(PY) -m pytest

test-fast: venv tools build
	$(PY) -m pytest -m "not realclient"

bench: venv build
	$(PY) -m bench

# SAM's makefile build method calls this with ARTIFACTS_DIR set (see template.yaml Metadata).
build-McpFunction:
	bash scripts/build_lambda.sh "$(ARTIFACTS_DIR)"

# The task worker ships the same artifact; its handler imports only the parts it needs (app/worker).
build-WorkerFunction:
	bash scripts/build_lambda.sh "$(ARTIFACTS_DIR)"

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKS) .aws-sam $(NODE_DIR)/node_modules .mypy_cache .ruff_cache .pytest_cache
