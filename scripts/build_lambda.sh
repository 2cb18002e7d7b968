#!/usr/bin/env bash
# Builds the Lambda artifact into ARTIFACTS_DIR (SAM's makefile build method calls it; so can anyone):
#   1. the pinned wheels of requirements-lambda.txt for the target platform (default: python3.13 arm64),
#   2. app/ without app/local (the dev-only local server and moto sandbox),
#   3. bytecode compiled by Python 3.13, hash-based and unchecked: /var/task is read-only, so bytecode not
#      shipped would be compiled again on every cold start; unchecked because the files never change there.
# LAMBDA_PLATFORM=manylinux2014_x86_64 builds for x86_64 instead (the benchmark's host artifact).
set -euo pipefail

die() { echo "build_lambda.sh: $*" >&2; exit 1; }
[[ $# -eq 1 && -n $1 ]] || die "usage: build_lambda.sh ARTIFACTS_DIR"
out=$1
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
platform=${LAMBDA_PLATFORM:-manylinux2014_aarch64}

# Bytecode must come from the runtime's minor version: its magic number is checked at import.
py313=$(PYENV_VERSION=3.13.0 pyenv which python 2>/dev/null || command -v python3.13 || true)
[[ -n $py313 ]] || die "Python 3.13 not found (tried 'PYENV_VERSION=3.13.0 pyenv which python' and python3.13)"
"$py313" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' || die "$py313 is not Python 3.13"
# Any pip installs for another platform; prefer the project venv's (newer) over the interpreter's own.
pip=("$py313" -m pip)
[[ -x $root/.venv/bin/python ]] && pip=("$root/.venv/bin/python" -m pip)

# Start from nothing, but only ever clear an empty directory or a previous artifact.
mkdir -p "$out"
if [[ -n $(ls -A "$out") ]]; then
    [[ -f $out/app/handler.py ]] || die "$out is not empty and holds no previous artifact; refusing to clear it"
    find "$out" -mindepth 1 -delete
fi

"${pip[@]}" install -qq --disable-pip-version-check --no-compile \
    --platform "$platform" --implementation cp --python-version 3.13 --only-binary=:all: \
    --target "$out" -r "$root/requirements-lambda.txt"

tar -C "$root" --exclude=app/local --exclude=__pycache__ --exclude='*.py[co]' -cf - app | tar -C "$out" -xf -

size() { du -sk "$out" | cut -f1; }
before=$(size)
# Never used at run time: console scripts (bin/), packages' own test suites, bytecode of other versions.
rm -rf "$out/bin"
find "$out" -depth -type d \( -name tests -o -name __pycache__ \) -not -path "$out/app/*" -exec rm -rf {} +

"$py313" -m compileall -q -j0 --invalidation-mode unchecked-hash "$out" \
    || die "compileall failed (run it without -q to see which file)"

echo "build_lambda.sh: $platform artifact in $out: $(size) KiB ($before KiB before stripping, without bytecode)"
