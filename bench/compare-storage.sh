#!/usr/bin/env bash
# Measures the event log of this working tree against another commit's, in one run on one Azurite, with the same
# measuring code built against both (bench/Bridge.StorageBench). Prints the before-and-after table of
# docs/benchmarks.md. Traffic stays on 127.0.0.1.
#   bench/compare-storage.sh [REV (default HEAD)] [--rounds 6] [--events 20000] [--replay-events 20000]
#   bench/compare-storage.sh [REV] --bdn    BenchmarkDotNet (MemoryDiagnoser) of both builds, one after the other
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
cd "$(repo_root)"

ensure_azurite_installed
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence --disableTelemetry \
  --skipApiVersionCheck >/dev/null 2>&1 &
azurite_pid=$!
worktree=""
cleanup() {
  kill -INT "$azurite_pid" 2>/dev/null || true
  wait "$azurite_pid" 2>/dev/null || true
  if [[ -n "$worktree" ]]; then git worktree remove --force "$worktree"; fi
}
trap cleanup EXIT
for _ in $(seq 1 100); do azurite_answers "$port" && break; sleep 0.1; done
connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"

build() { dotnet build bench/Bridge.StorageBench -c Release -nologo -v quiet -clp:ErrorsOnly --artifacts-path "$@"; }
bench() { dotnet "$PWD/artifacts/storagebench-$1/bin/Bridge.StorageBench/release/Bridge.StorageBench.dll" "${@:2}"; }

rev="HEAD"
if [[ $# -gt 0 && "$1" != --* ]]; then rev="$1"; shift; fi
worktree="$(mktemp -d)/base"
echo "==> Building the measurements against $rev (in $worktree) and against this working tree" >&2
git worktree add --detach --quiet "$worktree" "$rev"
build artifacts/storagebench-before -p:BridgeSourceRoot="$worktree/"
build artifacts/storagebench-after
if [[ "${1:-}" == "--bdn" ]]; then
  for build in before after; do
    echo "==> BenchmarkDotNet, $build" >&2
    bench "$build" bdn --connection "$connection" --artifacts "artifacts/storagebench-$build/bdn"
  done
  exit 0
fi

echo "==> Measuring, before and after alternately, on Azurite at 127.0.0.1:$port" >&2
bench after compare --connection "$connection" \
  --before "artifacts/storagebench-before/bin/Bridge.StorageBench/release/Bridge.StorageBench.dll" "$@"
