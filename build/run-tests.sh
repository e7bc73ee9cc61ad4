#!/usr/bin/env bash
# Runs each test project (already built) and prints one closing line: "N passed, N failed, N skipped".
# Exits non-zero if any project failed or if no test ran at all.
set -uo pipefail
config=$1; shift
passed=0 failed=0 skipped=0 status=0
for project in "$@"; do
  name=$(basename "$project")
  log=$(mktemp)
  echo "=== $name"
  dotnet test "$project/$name.csproj" -c "$config" --no-build --nologo --logger "console;verbosity=normal" 2>&1 | tee "$log" \
    | grep -E "^\s+(Passed|Failed|Skipped) |Error Message|Assert|^(Passed|Failed)!|Total tests" || true
  rc=${PIPESTATUS[0]}
  line=$(grep -E "^(Passed|Failed)!" "$log" | tail -1)
  p=$(sed -nE 's/.*Passed: *([0-9]+).*/\1/p' <<<"$line"); f=$(sed -nE 's/.*Failed: *([0-9]+).*/\1/p' <<<"$line")
  s=$(sed -nE 's/.*Skipped: *([0-9]+).*/\1/p' <<<"$line")
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" -ne 0 ]; then status=1; [ -z "$line" ] && { echo "--- $name failed to run:"; tail -40 "$log"; failed=$((failed + 1)); }; fi
  rm -f "$log"
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$passed" -gt 0 ] || status=1
exit $status
