#!/usr/bin/env bash
# Every test of the project: the .NET suites on SQLite, the server's database tests again on PostgreSQL when
# EXBRIDGE_TEST_POSTGRES names a server, then the official Node SDK against a running server when its test folder is
# present. Ends with the passes that ran ("databases: sqlite, postgres; node sdk: yes") and, last, the one line CI
# reads: "all: N passed, M failed, K skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
trap 'rm -f "$log"' EXIT
passed=0
failed=0
skipped=0
databases=sqlite
node_sdk=no

count_dotnet() {
  # dotnet test's closing lines: "Passed!  - Failed:     0, Passed:   121, Skipped: …" (one per test assembly)
  local p f s
  p=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
  f=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
  s=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
}

status=0
echo "== build (Release)"
dotnet build ExchangeBridge.sln -c Release -nologo -v quiet

echo "== .NET tests on SQLite"
EXBRIDGE_TEST_POSTGRES= dotnet test ExchangeBridge.sln -c Release --no-build -nologo 2>&1 | tee "$log" || status=1
grep -q 'Failed!' "$log" && status=1
grep -Eq 'Passed!|Failed!' "$log" || status=1
count_dotnet

if [ -n "${EXBRIDGE_TEST_POSTGRES:-}" ]; then
  echo "== .NET tests on PostgreSQL"
  # Only the server's tests read EXBRIDGE_TEST_POSTGRES, and of those only the ones that use its database: a class
  # that uses none, or a SQLite database of its own, is marked [Trait("Database", "Independent")] and ran above.
  dotnet test tests/ExchangeBridge.Tests -c Release --no-build -nologo --filter 'Database!=Independent' 2>&1 | tee "$log" || status=1
  grep -q 'Failed!' "$log" && status=1
  grep -Eq 'Passed!|Failed!' "$log" || status=1
  count_dotnet
  databases="$databases, postgres"
fi

if [ -f tests/node-sdk/package.json ]; then
  echo "== the official Node SDK against a running server"
  export EXBRIDGE_SERVER_DLL="$PWD/src/ExchangeBridge.Server/bin/Release/net10.0/ExchangeBridge.Server.dll"
  # npm ci when node_modules is missing or older than the lockfile (npm writes node_modules/.package-lock.json on install).
  stamp=tests/node-sdk/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ tests/node-sdk/package-lock.json -nt "$stamp" ] || [ tests/node-sdk/package.json -nt "$stamp" ]; then
    echo "== npm ci (tests/node-sdk)"
    ( cd tests/node-sdk && npm ci --no-audit --no-fund ) || status=1
  fi
  ( cd tests/node-sdk && npm test 2>&1 ) | tee "$log" || status=1
  p=$(grep -Eo '^# pass [0-9]+|^ℹ pass [0-9]+' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
  f=$(grep -Eo '^# fail [0-9]+|^ℹ fail [0-9]+' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
  k=$(grep -Eo '^# skipped [0-9]+|^ℹ skipped [0-9]+' "$log" | grep -Eo '[0-9]+' | tail -1 || true)
  [ -n "$p" ] || status=1
  [ "${f:-1}" = "0" ] || status=1
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${k:-0}))
  node_sdk=yes
fi

echo "databases: $databases; node sdk: $node_sdk"
echo "all: $passed passed, $failed failed, $skipped skipped"
exit $status
