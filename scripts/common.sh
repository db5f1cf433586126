# Shared by run.sh and test.sh: install and find what Bridge needs on a Debian machine with the .NET SDK and Node.js.

repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }

# Installs the pinned Azurite from package-lock.json unless it is already there.
ensure_azurite_installed() {
  if [[ ! -x node_modules/.bin/azurite-table ]]; then
    echo "==> Installing Azurite (npm ci, pinned in package-lock.json)"
    npm ci --no-audit --no-fund --loglevel=error
  fi
}

# True when a URL answers over HTTP at all (any status; Azurite answers unsigned requests with 403). Uses Node's fetch,
# because curl is not on every fresh machine.
http_answers() {
  node -e "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then(() => process.exit(0), () => process.exit(1))" "$1"
}

# True when an HTTP URL answers with a 2xx status.
http_ok() {
  node -e "fetch(process.argv[1], { signal: AbortSignal.timeout(2000) }).then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))" "$1"
}

azurite_answers() { http_answers "http://127.0.0.1:$1/devstoreaccount1/Tables"; }

# True when something accepts TCP connections on 127.0.0.1:$1 (the local Service Bus endpoint speaks AMQP, not HTTP).
tcp_answers() {
  node -e "require('net').connect(+process.argv[1], '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))" "$1"
}

# Installs Debian's Chromium for the browser tests unless a chromium binary is on PATH.
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then
    return
  fi

  echo "==> Installing Chromium from Debian (apt-get install chromium)"
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}
