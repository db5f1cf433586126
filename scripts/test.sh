#!/usr/bin/env bash
# Runs every test project. The tests start their own Azurite instances (in memory, on free ports) and their own
# servers, so nothing else needs to run; this script installs what they use: Azurite from npm and Chromium from apt.
# The Bicep CLI comes from NuGet with the test build.
# Extra arguments go to 'dotnet test', for example:  scripts/test.sh --filter "FullyQualifiedName~Replay"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(repo_root)"

ensure_azurite_installed
ensure_chromium

# The Functions app's Service Bus trigger needs Microsoft.Azure.Functions.Worker.Extensions.ServiceBus. Where the
# NuGet source does not serve it, the app is built and tested without that trigger; everything else still is.
build_options=()
if ! restore_output=$(dotnet restore src/Bridge.Functions/Bridge.Functions.csproj -nologo 2>&1); then
  if grep -q "NU1101.*Microsoft.Azure.Functions.Worker.Extensions.ServiceBus" <<<"$restore_output"; then
    echo "==> Microsoft.Azure.Functions.Worker.Extensions.ServiceBus is not available here: building the Functions app without its Service Bus trigger (-p:IncludeServiceBusTrigger=false)"
    build_options=(-p:IncludeServiceBusTrigger=false)
  else
    echo "$restore_output" >&2
    exit 1
  fi
fi

echo "==> Building and running the tests (Bridge.sln)"
# The projects run in parallel and print as they finish, so a failure can scroll far up; it is repeated at the end,
# where a CI log's tail shows it.
output=$(mktemp)
trap 'rm -f "$output"' EXIT
set +e
dotnet test Bridge.sln -c Release -nologo --logger "console;verbosity=normal" --blame-hang-timeout 5m "${build_options[@]}" "$@" 2>&1 | tee "$output"
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "==> The tests failed (exit code $status). Failures and errors, repeated from above:"
  grep -E -A20 "^\s+Failed [A-Z]|error [A-Z]+[0-9]+:|Test Run Aborted" "$output" | grep -vE "^\s+at " | head -300
fi
exit "$status"
