#!/usr/bin/env bash
# Runs Bridge on this machine: Azurite (installed and started if needed), the local Service Bus endpoint
# (tools/Bridge.LocalServiceBus, serving the topic and subscriptions of its Config.json) and the standalone server
# consuming that topic, then prints the demo page's URL. Ctrl-C or SIGTERM stops what this script started (started
# with & from another script, bash ignores SIGINT for it, so use SIGTERM there); Azurite's data stays in .azurite/,
# while the local Service Bus endpoint keeps messages in memory only. It builds only when a source file changed.
#   BRIDGE_PORT      the server's port on 127.0.0.1 (default 5080)
#   AZURITE_PORT     the Table service port to use or start (default 10002, what UseDevelopmentStorage=true means)
#   SERVICEBUS_PORT  the local Service Bus endpoint's port to use or start (default 5672, as Microsoft's emulator)
#   BRIDGE_DEMO      1: responses last at most 15 s (Sse__MaxDurationSeconds), so the demo page shows its countdown,
#                    the reconnection and the resume within seconds rather than two minutes
#   BRIDGE_HTTPS_PORT  also serve HTTPS, with HTTP/2, on this port (e.g. 5443), with the .NET development certificate
#                    (`dotnet dev-certs https`, made offline if missing, exported to .certs/). Browsers warn about it
#                    until it is trusted (`dotnet dev-certs https --trust` where that is supported). docs/http2.md
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$(repo_root)"

port="${BRIDGE_PORT:-5080}"
azurite_port="${AZURITE_PORT:-10002}"
servicebus_port="${SERVICEBUS_PORT:-5672}"
azurite_pid=""
servicebus_pid=""
server_pid=""

stop() {
  trap - INT TERM EXIT
  [[ -n "$server_pid" ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  [[ -n "$servicebus_pid" ]] && kill -TERM "$servicebus_pid" 2>/dev/null && wait "$servicebus_pid" 2>/dev/null || true
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

# Even with nothing to do, building takes half a minute; skip it unless something was changed since the last one.
build_stamp=src/Bridge.Server/bin/run-build.stamp
if [[ -f "$build_stamp" && -z "$(find src tools Directory.Build.props Directory.Packages.props global.json \
      -newer "$build_stamp" -not -path '*/bin/*' -not -path '*/obj/*' -print -quit)" ]]; then
  echo "==> Nothing changed since the last build (delete $build_stamp to force one)"
else
  echo "==> Building the server, the local Service Bus endpoint and the publish tool"
  for project in src/Bridge.Server tools/Bridge.LocalServiceBus tools/Bridge.Publish; do
    dotnet build "$project" -c Release -nologo -v quiet -clp:ErrorsOnly
  done
  touch "$build_stamp"
fi

if tcp_answers "$servicebus_port"; then
  echo "==> Using the Service Bus endpoint already listening on port $servicebus_port"
else
  echo "==> Starting the local Service Bus endpoint on 127.0.0.1:$servicebus_port (tools/Bridge.LocalServiceBus/Config.json)"
  dotnet tools/Bridge.LocalServiceBus/bin/Release/net10.0/Bridge.LocalServiceBus.dll --port "$servicebus_port" &
  servicebus_pid=$!
  for _ in $(seq 1 100); do tcp_answers "$servicebus_port" && break; sleep 0.1; done
  tcp_answers "$servicebus_port" || { echo "The local Service Bus endpoint did not start on port $servicebus_port" >&2; exit 1; }
fi
export ServiceBusConnection="${ServiceBusConnection:-Endpoint=sb://127.0.0.1:$servicebus_port;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;}"

export AzureWebJobsStorage="${AzureWebJobsStorage:-DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;TableEndpoint=http://127.0.0.1:$azurite_port/devstoreaccount1;}"
urls="http://127.0.0.1:$port"
if [[ "${BRIDGE_DEMO:-}" == 1 ]]; then
  export Sse__MaxDurationSeconds="${Sse__MaxDurationSeconds:-15}"
fi
if [[ -n "${BRIDGE_HTTPS_PORT:-}" ]]; then
  certificate=.certs/bridge-development.pfx
  if [[ ! -f "$certificate" ]]; then
    echo "==> Exporting the .NET development certificate to $certificate (dotnet dev-certs https)"
    mkdir -p .certs
    dotnet dev-certs https --export-path "$certificate" --password bridge-development >/dev/null
  fi
  export Kestrel__Certificates__Default__Path="$PWD/$certificate" Kestrel__Certificates__Default__Password=bridge-development
  urls="$urls;https://127.0.0.1:$BRIDGE_HTTPS_PORT"
fi
dotnet src/Bridge.Server/bin/Release/net10.0/Bridge.Server.dll --urls "$urls" &
server_pid=$!
for _ in $(seq 1 100); do http_ok "http://127.0.0.1:$port/api/health" && break; sleep 0.2; done

echo
echo "    Bridge is running. Open the demo page:  http://127.0.0.1:$port/"
echo "    Or from a shell:  curl -N http://127.0.0.1:$port/api/streams/demo/events"
echo "                      curl -X POST --data-binary 'hello' http://127.0.0.1:$port/api/streams/demo/events"
if [[ -n "${BRIDGE_HTTPS_PORT:-}" ]]; then
  echo "    Over HTTPS with HTTP/2 (development certificate):  https://127.0.0.1:$BRIDGE_HTTPS_PORT/"
fi
echo "    Through the Service Bus topic:"
echo "                      dotnet tools/Bridge.Publish/bin/Release/net10.0/Bridge.Publish.dll --stream demo 'hello from the topic'"
echo "    Press Ctrl-C to stop."
echo
wait "$server_pid"
