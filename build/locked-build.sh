#!/usr/bin/env bash
# Runs a build command (the rest of the command line) under an exclusive lock on <repo>/.build.lock, so two `make`
# runs in one tree never build at once: a second build rewrites bin/ (TorchSharp's native libraries are copied and
# patched again, see LibTorchSharpGlibcxxFix.targets) under a replica that is loading them, which then dies with
# "doesn't contain a reference to libtorch-cpu-linux-x64" (issue 9).
#   build/locked-build.sh [--stamp FILE] -- dotnet build ...
# With --stamp: FILE is touched (with the time the build started) when the build succeeds, and a run that had to
# wait for the lock skips its build if FILE changed meanwhile (the run it waited for built the same tree).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
stamp=
if [ "${1:-}" = "--stamp" ]; then stamp=$2; shift 2; fi
[ "${1:-}" = "--" ] && shift

mtime() { stat -c %Y.%y "$1" 2>/dev/null || echo none; }
before=$( [ -n "$stamp" ] && mtime "$stamp" || echo none)

exec 9>"$root/.build.lock"
if ! flock -n 9; then
  echo "locked-build: another build of this tree is running; waiting for it" >&2
  flock 9
  if [ -n "$stamp" ] && [ "$(mtime "$stamp")" != "$before" ]; then
    echo "locked-build: built meanwhile by the run we waited for; not building again" >&2
    exit 0
  fi
fi

started=$(date +%s.%N)
# 9>&-: the build's processes (MSBuild nodes, the compiler server) outlive it and must not inherit the lock.
"$@" 9>&-
[ -z "$stamp" ] || touch -d "@$started" "$stamp"
