#!/usr/bin/env bash
# Runs every WinterOps test: unit (pure), integration (a real Azurite the tests start on free ports)
# and contract tests. Ends with one line totalled over every test project: "N passed, N failed, N skipped".
# Extra arguments go to `dotnet test`, e.g. ./test.sh --filter "FullyQualifiedName~Partner".
set -uo pipefail
cd "$(dirname "$0")"

if [ ! -x node_modules/.bin/azurite ] || [ ! -e node_modules/nhsuk-frontend/package.json ]; then
  echo "Installing Azurite and the pages' packages from package-lock.json ..."
  npm ci --no-audit --no-fund --loglevel=error || exit 1
fi

# The browser tests (tests/WinterOps.Web.Tests) drive Debian's chromium; Playwright never downloads a browser.
if [ ! -x /usr/bin/chromium ] && [ -z "${WINTEROPS_CHROMIUM:-}" ]; then
  echo "Installing chromium for the browser tests (apt-get) ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { echo "0 passed, 1 failed"; exit 1; }
fi
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

dotnet build WinterOps.sln -c Debug --nologo -v quiet -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
dotnet test WinterOps.sln -c Debug --no-build --nologo --logger "trx;LogFilePrefix=winterops" --results-directory "$results" "$@"
status=$?

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # the runner failed without a result file (a crash, a build problem)
fi
projects=$(find tests -name '*.Tests.csproj' | wc -l)
reports=$(find "$results" -name '*.trx' | wc -l)
if [ "$reports" -lt "$projects" ] && [ $# -eq 0 ]; then
  echo "Only $reports result files for $projects test projects: a test run is missing." >&2
  failed=$((failed + 1))
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
