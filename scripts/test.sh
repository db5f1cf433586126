#!/usr/bin/env bash
# Runs every test project. The tests start their own Azurite instances (in memory, on free ports) and their own
# servers, so nothing else needs to run; this script installs what they use: Azurite from npm and Chromium from apt.
# Extra arguments go to 'dotnet test', for example:  scripts/test.sh --filter "FullyQualifiedName~Replay"
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(repo_root)"

ensure_azurite_installed
ensure_chromium

echo "==> Building and running the tests (Bridge.Tests.slnf: everything but the Functions app, which needs packages this build cannot restore)"
dotnet test Bridge.Tests.slnf -c Release -nologo --logger "console;verbosity=normal" --blame-hang-timeout 5m "$@"
