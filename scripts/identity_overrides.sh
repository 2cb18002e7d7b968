#!/usr/bin/env bash
# The main stack's sign-in parameters, read from the identity stack's outputs (infra/identity.yaml):
#
#   sam deploy --parameter-overrides $(scripts/identity_overrides.sh lambda-ops-mcp-identity)
#
# Prints one Key=Value per line (no value contains a space). Needs the AWS CLI and read access to the stack.
set -euo pipefail

stack="${1:?usage: scripts/identity_overrides.sh IDENTITY_STACK_NAME}"
# identity output = main stack parameter (tests/test_identity_stack.py checks both sides of each pair).
pairs=(
  IssuerUrl=OAuthIssuer
  JwksUrl=OAuthJwksUrl
  ResourceServerIdentifier=ResourceUrl
  ReadScope=OAuthReadScope
  WriteScope=OAuthWriteScope
  ClientIds=OAuthClientIds
  PublicClientId=OAuthPublicClientId
  PublicClientRedirectUris=OAuthRedirectUris
  AuthorizationEndpoint=OAuthAuthorizationEndpoint
  TokenEndpoint=OAuthTokenEndpoint
)
outputs="$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query 'Stacks[0].Outputs[].[OutputKey,OutputValue]' --output text)"
for pair in "${pairs[@]}"; do
  output="${pair%%=*}"
  parameter="${pair#*=}"
  value="$(awk -F '\t' -v key="$output" '$1 == key { print $2 }' <<<"$outputs")"
  if [[ -z "$value" ]]; then
    echo "identity_overrides.sh: stack $stack has no output $output" >&2
    exit 1
  fi
  printf '%s=%s\n' "$parameter" "$value"
done
