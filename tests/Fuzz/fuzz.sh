#!/usr/bin/env bash
# Runs AFL++ on one SharpFuzz target: `make fuzz TARGET=<name> SECONDS=<n>` (method and results: tests/Fuzz/README.md).
#   tests/Fuzz/fuzz.sh <target> <seconds> [config] [timeout-ms]
# 1. Hard-links the built tests/Fuzz output into .fuzz/bin and instruments private copies of our assemblies (plus the
#    protobuf runtime and Microsoft.ML.Tokenizers) with the sharpfuzz tool; the build output itself stays untouched.
# 2. afl-fuzz -V <seconds> from tests/Fuzz/corpus/<target>, the target in SharpFuzz's out-of-process persistent mode
#    (one dotnet child runs every input and is restarted after a crash or a timeout), under nice -n 10.
# 3. Copies new crashes/hangs to tests/Fuzz/crashes/<target>/, prints the run's numbers (one line also appended to
#    .fuzz/results.tsv): seconds, execs, exec/s, crashes, hangs, peak RSS of the target process.
set -euo pipefail
target=$1 seconds=$2 config=${3:-Release} timeout_ms=${4:-5000}
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/tests/Fuzz/bin/$config/net10.0
work=$root/.fuzz
bin=$work/bin
out=$work/findings/$target
instrumented=(MultiModal.Models.dll MultiModal.Core.dll MultiModal.Clip.dll MultiModal.Vision.dll MultiModal.Diffusion.dll
  MultiModal.Contracts.dll Google.Protobuf.dll Microsoft.ML.Tokenizers.dll)

command -v afl-fuzz >/dev/null || { echo "afl-fuzz not found: apt-get install afl++" >&2; exit 2; }
[ -f "$build/MultiModal.Tests.Fuzz.dll" ] || { echo "no $build/MultiModal.Tests.Fuzz.dll: run make build" >&2; exit 2; }
[ -d "$root/tests/Fuzz/corpus/$target" ] || { echo "no corpus for target '$target'" >&2; exit 2; }

# Instrument once per build: the stamp is the fuzz assembly's own timestamp.
if [ ! -f "$bin/.instrumented" ] || [ "$build/MultiModal.Tests.Fuzz.dll" -nt "$bin/.instrumented" ]; then
  rm -rf "$bin" && mkdir -p "$work" && cp -al "$build" "$bin"
  (cd "$root" && dotnet tool restore >/dev/null)
  for dll in "${instrumented[@]}"; do
    cp "$bin/$dll" "$bin/$dll.copy" && mv -f "$bin/$dll.copy" "$bin/$dll"   # break the hard link before rewriting
    (cd "$root" && dotnet tool run sharpfuzz "$bin/$dll") >/dev/null
  done
  touch "$bin/.instrumented"
fi

rm -rf "$out" && mkdir -p "$out"
peak_file=$out/peak_rss_kb && echo 0 > "$peak_file"
# The target's peak RSS: the largest VmHWM of any process running the fuzz assembly, sampled every 2 s.
(
  peak=0
  while sleep 2; do
    for status in /proc/[0-9]*/status; do
      pid=${status#/proc/}; pid=${pid%/status}
      grep -qs "MultiModal.Tests.Fuzz.dll" "/proc/$pid/cmdline" 2>/dev/null || continue
      hwm=$(awk '/^VmHWM:/ { print $2 }' "$status" 2>/dev/null || true)
      [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm && echo "$peak" > "$peak_file"
    done
  done
) &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT

AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 \
  nice -n 10 afl-fuzz -i "$root/tests/Fuzz/corpus/$target" -o "$out" -m none -t "$timeout_ms" -V "$seconds" \
  -- dotnet "$bin/MultiModal.Tests.Fuzz.dll" "$target" > "$out/afl.log" 2>&1 || { tail -30 "$out/afl.log"; exit 1; }

stats=$out/default/fuzzer_stats
stat() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
mkdir -p "$root/tests/Fuzz/crashes/$target"
for kind in crashes hangs; do
  for f in "$out/default/$kind"/id*; do
    [ -f "$f" ] || continue
    cp "$f" "$root/tests/Fuzz/crashes/$target/${kind%es}-$(sha1sum "$f" | cut -c1-12)"
  done
done
line=$(printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s" "$target" "$(stat run_time)" "$(stat execs_done)" "$(stat execs_per_sec)" \
  "$(stat saved_crashes)" "$(stat saved_hangs)" "$(( $(cat "$peak_file") / 1024 ))" "$(stat corpus_count)")
echo -e "target\tseconds\texecs\texec/s\tcrashes\thangs\tpeak_rss_mb\tqueue" && echo "$line"
echo "$line" >> "$work/results.tsv"
