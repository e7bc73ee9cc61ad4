#!/usr/bin/env bash
# Keeps a handful of a run's interesting inputs in the committed corpus: the smallest AFL queue entries that added
# coverage (+cov), at most <max> (default 24) of at most 16 KiB each, as tests/Fuzz/corpus/<target>/q-<sha1>.
#   tests/Fuzz/keep-queue.sh <target> [max]      (after make fuzz TARGET=<target>)
set -euo pipefail
target=$1 max=${2:-24}
root=$(cd "$(dirname "$0")/../.." && pwd)
queue=$root/.fuzz/findings/$target/default/queue
dest=$root/tests/Fuzz/corpus/$target
[ -d "$queue" ] || { echo "no queue for $target: run make fuzz TARGET=$target first" >&2; exit 2; }
find "$queue" -maxdepth 1 -type f -name 'id:*+cov*' -size -16k -printf '%s %p\n' | sort -n | head -n "$max" |
  while read -r _ file; do cp "$file" "$dest/q-$(sha1sum "$file" | cut -c1-12)"; done
echo "$target: $(ls "$dest" | wc -l) corpus files, $(du -sh "$dest" | cut -f1)"
