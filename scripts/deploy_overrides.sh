#!/usr/bin/env bash
# The --parameter-overrides of a pipeline deploy (.github/workflows/deploy.yml), one Key=Value per line:
# samconfig.toml's parameter_overrides for the environment, then the sign-in parameters read from the
# identity stack's outputs (scripts/identity_overrides.sh), then the function role's permissions boundary
# (infra/github-oidc.yaml PermissionsBoundary, in the account the credentials belong to). `sam deploy --parameter-overrides` replaces
# samconfig's value instead of adding to it, so both go on the command line, samconfig's first.
#
#   scripts/deploy_overrides.sh staging lambda-ops-mcp-identity
set -euo pipefail

environment="${1:?usage: scripts/deploy_overrides.sh ENVIRONMENT IDENTITY_STACK_NAME}"
identity_stack="${2:?usage: scripts/deploy_overrides.sh ENVIRONMENT IDENTITY_STACK_NAME}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

python3 - "$root/samconfig.toml" "$environment" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as config:
    overrides = tomllib.load(config)[sys.argv[2]]["deploy"]["parameters"].get("parameter_overrides", "")
print("\n".join(overrides.split()))
PY
bash "$root/scripts/identity_overrides.sh" "$identity_stack"

# The boundary's name is github-oidc.yaml's PermissionsBoundaryName default; account and partition come from
# the caller's own ARN (arn:<partition>:sts::<account>:assumed-role/...), so no account id is kept in the repo.
boundary="${PERMISSIONS_BOUNDARY_NAME:-lambda-ops-mcp-boundary}"
caller=$(aws sts get-caller-identity --query Arn --output text)
IFS=: read -r _ partition _ _ account _ <<<"$caller"
[[ $partition == aws* && $account =~ ^[0-9]{12}$ ]] || { echo "unexpected caller ARN: $caller" >&2; exit 1; }
echo "PermissionsBoundaryArn=arn:$partition:iam::$account:policy/$boundary"
