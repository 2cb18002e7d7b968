#!/usr/bin/env bash
# Regenerates requirements-lambda.txt: the pinned closure of [project].dependencies (pyproject.toml) as pip
# resolves it for the Lambda target (cp313, manylinux2014_aarch64, wheels only). Run after changing the
# dependencies (pyproject ranges) and then `make build`.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-.venv/bin/python}
[[ -x $PYTHON ]] || { echo "lock_lambda.sh: $PYTHON not found; run 'make venv' first" >&2; exit 1; }
report=$(mktemp)
lock=$(mktemp)
trap 'rm -f "$report" "$lock"' EXIT

mapfile -t deps < <("$PYTHON" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"], sep="\n")')
"$PYTHON" -m pip install -qq --disable-pip-version-check --dry-run --ignore-installed --report "$report" \
    --platform manylinux2014_aarch64 --implementation cp --python-version 3.13 \
    --only-binary=:all: "${deps[@]}"

"$PYTHON" - "$report" >"$lock" <<'PY'
import json
import sys

report = json.load(open(sys.argv[1]))
pins = sorted((i["metadata"]["name"].lower().replace("_", "-"), i["metadata"]["version"]) for i in report["install"])
print("# The Lambda's runtime dependencies, pinned: the whole closure of [project].dependencies in pyproject.toml")
print("# as resolved for python3.13 on manylinux2014_aarch64. boto3/botocore are pinned and shipped so the")
print("# function does not depend on the copy bundled in the Lambda runtime.")
print("# Regenerate with: bash scripts/lock_lambda.sh   (then `make build`)")
for name, version in pins:
    print(f"{name}=={version}")
PY
chmod 644 "$lock" && mv "$lock" requirements-lambda.txt
echo "wrote requirements-lambda.txt ($(grep -c '==' requirements-lambda.txt) pins)"
