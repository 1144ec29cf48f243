#!/usr/bin/env bash
# Packages and deploys WinterOps to Azure (README, "Deploy to Azure").
#   ./deploy.sh package [--output DIR] [--teams-app-id ID]
#       functionapp.zip: the isolated-worker Function App published for linux-x64 (host.json,
#       functions.metadata, worker.config.json, extensions.json, .azurefunctions/); with a Teams sender client id (or
#       WINTEROPS_TEAMS_APP_ID), also teams-app.zip.
#   ./deploy.sh up --resource-group RG --environment dev|prod [--package FILE] [--dry-run]
#       deploys infra-bicep/main.bicep with infra-bicep/<environment>.bicepparam, then the package, then
#       writes teams-app.zip for the deployed identity. --dry-run prints the commands without running them.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; }
fail() { echo "$1" >&2; exit 2; }
guid_pattern='^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$'

# teams_app <sender client id> <output dir>: the manifest with its id filled in, and the icons.
teams_app() {
  [[ "$1" =~ $guid_pattern ]] || fail "Teams app id '$1' is not a client id (GUID)."
  local staging
  staging=$(mktemp -d)
  sed "s/{{SENDER_CLIENT_ID}}/$1/g" infra-bicep/teams-app/manifest.json > "$staging/manifest.json"
  cp infra-bicep/teams-app/color.png infra-bicep/teams-app/outline.png "$staging/"
  dotnet run tools/zip.cs -- "$staging" "$2/teams-app.zip"
  rm -rf "$staging"
  echo "Wrote $2/teams-app.zip (webApplicationInfo.id $1)"
}

package() {
  local output=artifacts teams_id=${WINTEROPS_TEAMS_APP_ID:-}
  while [ $# -gt 0 ]; do
    case "$1" in
      --output) output=${2:?--output needs a folder}; shift 2 ;;
      --teams-app-id) teams_id=${2:?--teams-app-id needs a client id}; shift 2 ;;
      *) fail "Unknown option for package: $1 (try --help)" ;;
    esac
  done
  mkdir -p "$output"
  output=$(cd "$output" && pwd)
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT

  # A build of its own (--artifacts-path): the developer's bin/ and obj/ stay as they are. Framework-dependent:
  # Flex Consumption provides the dotnet-isolated 10.0 runtime.
  dotnet publish src/WinterOps.Functions/WinterOps.Functions.csproj -c Release -r linux-x64 --self-contained false \
    --artifacts-path "$work/build" -o "$work/functionapp" --nologo -v quiet -clp:ErrorsOnly
  # Local-only settings never ship: Azure gets its settings from the Bicep app settings.
  rm -f "$work/functionapp/appsettings.Development.json" "$work/functionapp/local.settings.json"
  for required in host.json functions.metadata worker.config.json extensions.json .azurefunctions/function.deps.json WinterOps.Functions.dll; do
    [ -f "$work/functionapp/$required" ] || fail "Publish output lacks $required."
  done
  dotnet run tools/zip.cs -- "$work/functionapp" "$output/functionapp.zip"
  echo "Wrote $output/functionapp.zip ($(grep -o '"entryPoint"' "$work/functionapp/functions.metadata" | wc -l) functions)"

  if [ -n "$teams_id" ]; then
    teams_app "$teams_id" "$output"
  else
    echo "No Teams app id given (--teams-app-id or WINTEROPS_TEAMS_APP_ID): teams-app.zip not written; 'up' writes it."
  fi
}

up() {
  local group="" environment="" package_file=artifacts/functionapp.zip dry_run=false
  while [ $# -gt 0 ]; do
    case "$1" in
      --resource-group|-g) group=${2:?--resource-group needs a name}; shift 2 ;;
      --environment|-e) environment=${2:?--environment needs dev or prod}; shift 2 ;;
      --package) package_file=${2:?--package needs a file}; shift 2 ;;
      --dry-run) dry_run=true; shift ;;
      *) fail "Unknown option for up: $1 (try --help)" ;;
    esac
  done
  [ -n "$group" ] || fail "up needs --resource-group."
  case "$environment" in dev|prod) ;; *) fail "up needs --environment dev or prod." ;; esac
  local params="infra-bicep/$environment.bicepparam" deployment="winterops-$environment"
  if grep -q '00000000-0000-0000-0000-000000000000' "$params"; then
    $dry_run || fail "$params still holds placeholder values (CHANGE): fill them in first."
    echo "warning: $params still holds placeholder values (CHANGE)." >&2
  fi
  if ! $dry_run && [ ! -f "$package_file" ]; then
    fail "No package at $package_file: run ./deploy.sh package first."
  fi

  # run prints the command (dry run) or runs it; output reads one deployment output (printed to fd 3,
  # the script's stdout, when the caller captures the value).
  exec 3>&1
  run() { if $dry_run; then echo "$*"; else "$@"; fi; }
  output() {
    local query="properties.outputs.$1.value"
    if $dry_run; then
      echo "az deployment group show --resource-group $group --name $deployment --query $query --output tsv" >&3
      echo "<$1>"
    else
      az deployment group show --resource-group "$group" --name "$deployment" --query "$query" --output tsv
    fi
  }

  run az deployment group create --resource-group "$group" --name "$deployment" \
    --template-file infra-bicep/main.bicep --parameters "$params"
  local app teams_id
  app=$(output functionAppName)
  run az functionapp deployment source config-zip --resource-group "$group" --name "$app" --src "$package_file"
  teams_id=$(output teamsSenderClientId)
  if $dry_run; then
    echo "# then writes $(dirname "$package_file")/teams-app.zip with webApplicationInfo.id = $teams_id"
  else
    teams_app "$teams_id" "$(dirname "$package_file")"
    echo "API: $(output functionAppUrl)"
  fi
}

case "${1:-}" in
  package) shift; package "$@" ;;
  up) shift; up "$@" ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
