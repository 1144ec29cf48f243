#!/usr/bin/env bash
# Starts WinterOps locally: Azurite (storage emulator) and the Function App's functions in the local host
# (src/WinterOps.LocalHost: HTTP, timers, Durable on Azurite) on http://127.0.0.1:7071 with demo data.
# Usage: ./run.sh [--in-memory]    (--in-memory: Azurite keeps nothing on disk)
# Settings: local.settings.json "Values" if present, then environment variables (e.g. Demo__Seed=false).
set -euo pipefail
cd "$(dirname "$0")"

in_memory=false
for arg in "$@"; do
  case "$arg" in
    --in-memory) in_memory=true ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "Unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_for_port() { # port seconds name
  for _ in $(seq 1 $(($2 * 10))); do port_open "$1" && return 0; sleep 0.1; done
  echo "$3 did not start on port $1 within $2 s." >&2; return 1
}

for port in 7071 10000 10001 10002; do
  if port_open "$port"; then
    echo "Port $port is already in use (another ./run.sh or Azurite?). Stop it first." >&2
    exit 1
  fi
done

if [ ! -x node_modules/.bin/azurite ]; then
  echo "Installing Azurite from package-lock.json ..."
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "Building ..."
dotnet build src/WinterOps.LocalHost/WinterOps.LocalHost.csproj -c Debug --nologo -v quiet -clp:ErrorsOnly

pids=()
cleanup() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    echo; echo "Stopping WinterOps and Azurite ..."
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

azurite_args=(--silent --skipApiVersionCheck --disableTelemetry --blobPort 10000 --queuePort 10001 --tablePort 10002)
if $in_memory; then
  azurite_args+=(--inMemoryPersistence)
else
  mkdir -p .azurite
  azurite_args+=(--location .azurite)
fi
node node_modules/azurite/dist/src/azurite.js "${azurite_args[@]}" &
pids+=($!)
wait_for_port 10002 30 Azurite

export AZURE_FUNCTIONS_ENVIRONMENT="${AZURE_FUNCTIONS_ENVIRONMENT:-Development}"
export Auth__DevelopmentIssuer="${Auth__DevelopmentIssuer:-true}"
export Demo__Seed="${Demo__Seed:-true}"
dotnet src/WinterOps.LocalHost/bin/Debug/net10.0/WinterOps.LocalHost.dll &
pids+=($!)

for _ in $(seq 1 600); do
  if curl -fsS http://127.0.0.1:7071/api/health >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[1]}" 2>/dev/null; then echo "WinterOps exited during start-up." >&2; exit 1; fi
  sleep 0.1
done
curl -fsS http://127.0.0.1:7071/api/health >/dev/null || { echo "WinterOps did not become healthy within 60 s." >&2; exit 1; }

cat <<'MSG'

WinterOps is running (Ctrl+C stops it and Azurite).
  API      http://127.0.0.1:7071/api/health
  Docs     http://127.0.0.1:7071/docs
  OpenAPI  http://127.0.0.1:7071/openapi/v1.json

Get a token for a demo user (Development only), then call the API:
  TOKEN=$(curl -s -X POST http://127.0.0.1:7071/api/dev/token -H 'Content-Type: application/json' \
    -d '{"role":"Coordinator","org":"QZZ","name":"Sam Carter"}' | sed 's/.*"accessToken":"\([^"]*\)".*/\1/')
  curl -s http://127.0.0.1:7071/api/partners -H "Authorization: Bearer $TOKEN"
MSG
wait "${pids[1]}"
