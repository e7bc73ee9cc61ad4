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
    | awk '/^[[:space:]]+(Failed|Skipped) |^[[:space:]]+(Passed|Failed|Skipped): [0-9]|Total tests/ { print; next }
           /Error Message:/ { print; shown = 6; next }          # the message itself, not just its heading
           /Stack Trace:/ { shown = 0 }
           shown > 0 { print; shown-- }'
  rc=${PIPESTATUS[0]}
  # The console logger closes with "Total tests: N" then "     Passed: N" / "     Failed: N" / "    Skipped: N".
  count() { grep -E "^\s+$1: [0-9]+\s*$" "$log" | tail -1 | grep -oE "[0-9]+" || true; }
  p=$(count Passed); f=$(count Failed); s=$(count Skipped)
  line=$(grep -E "^Total tests: [0-9]+" "$log" | tail -1 || true)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${s:-0}))
  if [ "$rc" -ne 0 ]; then status=1; [ -z "$line" ] && { echo "--- $name failed to run:"; tail -40 "$log"; failed=$((failed + 1)); }; fi
  rm -f "$log"
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$passed" -gt 0 ] || status=1
exit $status
