#!/usr/bin/env bash
# Runs Bridge on this machine: Azurite (installed and started if needed) and the standalone server, then prints the
# demo page's URL. Ctrl-C stops what this script started; Azurite's data stays in .azurite/.
#   BRIDGE_PORT    the server's port on 127.0.0.1 (default 5080)
#   AZURITE_PORT   the Table service port to use or start (default 10002, what UseDevelopmentStorage=true means)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(repo_root)"

port="${BRIDGE_PORT:-5080}"
azurite_port="${AZURITE_PORT:-10002}"
azurite_pid=""
server_pid=""

stop() {
  trap - INT TERM EXIT
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  # Azurite writes its data to disk only on SIGINT.
  [[ -n "$azurite_pid" ]] && kill -INT "$azurite_pid" 2>/dev/null && wait "$azurite_pid" 2>/dev/null || true
  echo "==> Stopped."
}
trap stop INT TERM EXIT

ensure_azurite_installed
if azurite_answers "$azurite_port"; then
  echo "==> Using the Azurite already answering on port $azurite_port"
else
  echo "==> Starting Azurite on 127.0.0.1:$azurite_port (data in .azurite/)"
  mkdir -p .azurite
  node_modules/.bin/azurite-table --tableHost 127.0.0.1 --tablePort "$azurite_port" --location .azurite \
    --disableTelemetry --skipApiVersionCheck >.azurite/azurite.log 2>&1 &
  azurite_pid=$!
  for _ in $(seq 1 100); do azurite_answers "$azurite_port" && break; sleep 0.1; done
  azurite_answers "$azurite_port" || { echo "Azurite did not start; see .azurite/azurite.log" >&2; exit 1; }
fi

echo "==> Building the server"
dotnet build src/Bridge.Server/Bridge.Server.csproj -c Release -nologo -v quiet -clp:ErrorsOnly

export AzureWebJobsStorage="${AzureWebJobsStorage:-DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;}"
dotnet src/Bridge.Server/bin/Release/net10.0/Bridge.Server.dll --urls "http://127.0.0.1:$port" &
server_pid=$!
for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/api/health" && break; sleep 0.2; done

echo
echo "    Bridge is running. Open the demo page:  http://127.0.0.1:$port/"
echo "    Or from a shell:  curl -N http://127.0.0.1:$port/api/streams/demo/events"
echo "                      curl -X POST --data-binary 'hello' http://127.0.0.1:$port/api/streams/demo/events"
echo "    Press Ctrl-C to stop."
echo
wait "$server_pid"
