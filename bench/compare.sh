#!/usr/bin/env bash
# Measures this working tree against another commit in one run, on this machine, with the same measuring code for
# both (docs/benchmarks.md). The other commit is checked out in a temporary git worktree. Traffic stays on loopback.
#
#   bench/compare.sh storage [REV] [--rounds 6] [--events 20000] [--replay-events 20000]
#       the event log against raw Azure.Data.Tables calls (bench/Bridge.StorageBench built against both trees)
#   bench/compare.sh storage [REV] --bdn
#       BenchmarkDotNet (MemoryDiagnoser) of the event log, both trees one after the other
#   bench/compare.sh server [REV] <fanout|latency|replay|storage-cost|topic|writers> [--rounds 4] [harness options]
#       a load-harness scenario against both trees' standalone servers, alternately
#
# REV defaults to HEAD (this tree's uncommitted change against its last commit).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
cd "$(repo_root)"

mode="${1:?storage or server}"; shift
rev="HEAD"
if [[ $# -gt 0 && "$1" != --* && "$1" != fanout && "$1" != latency && "$1" != replay && "$1" != storage-cost && "$1" != writers && "$1" != topic ]]; then rev="$1"; shift; fi
worktree="$(mktemp -d)/base"
azurite_pid=""
cleanup() {
  [[ -n "$azurite_pid" ]] && kill -INT "$azurite_pid" 2>/dev/null && wait "$azurite_pid" 2>/dev/null || true
  git worktree remove --force "$worktree" 2>/dev/null || true
}
trap cleanup EXIT
echo "==> Checking out $rev in $worktree" >&2
git worktree add --detach --quiet "$worktree" "$rev"
ensure_azurite_installed

build() { dotnet build "$@" -c Release -nologo -v quiet -clp:ErrorsOnly; }

if [[ "$mode" == storage ]]; then
  port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
  node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$port" --inMemoryPersistence --disableTelemetry \
    --skipApiVersionCheck >/dev/null 2>&1 &
  azurite_pid=$!
  for _ in $(seq 1 100); do azurite_answers "$port" && break; sleep 0.1; done
  connection="DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$port/devstoreaccount1;"
  echo "==> Building bench/Bridge.StorageBench against $rev and against this tree" >&2
  build bench/Bridge.StorageBench --artifacts-path artifacts/storagebench-before -p:BridgeSourceRoot="$worktree/"
  build bench/Bridge.StorageBench --artifacts-path artifacts/storagebench-after
  bench() { dotnet "$PWD/artifacts/storagebench-$1/bin/Bridge.StorageBench/release/Bridge.StorageBench.dll" "${@:2}"; }
  if [[ "${1:-}" == "--bdn" ]]; then
    for build in before after; do
      echo "==> BenchmarkDotNet, $build" >&2
      bench "$build" bdn --connection "$connection" --artifacts "artifacts/storagebench-$build/bdn"
    done
  else
    bench after compare --connection "$connection" \
      --before "$PWD/artifacts/storagebench-before/bin/Bridge.StorageBench/release/Bridge.StorageBench.dll" "$@"
  fi
elif [[ "$mode" == server ]]; then
  scenario="${1:?a load-harness scenario}"; shift
  rounds=4
  if [[ "${1:-}" == "--rounds" ]]; then rounds="$2"; shift 2; fi
  echo "==> Building the server at $rev and this tree's server and load harness" >&2
  build "$worktree/src/Bridge.Server"
  build bench/Bridge.LoadHarness
  before="$worktree/src/Bridge.Server/bin/Release/net10.0/Bridge.Server.dll"
  for round in $(seq 1 "$rounds"); do
    for build in before after; do
      echo "==> Round $round, $build" >&2
      server=()
      [[ "$build" == before ]] && server=(--server-assembly "$before")
      dotnet bench/Bridge.LoadHarness/bin/Release/net10.0/Bridge.LoadHarness.dll "$scenario" "${server[@]}" "$@" 2>&1 \
        | grep -E "^\||KB per connection|p50|p99" | sed "s/^/[$build] /"
    done
  done
else
  echo "Usage: bench/compare.sh storage|server …; see the top of this script." >&2
  exit 2
fi
