#!/usr/bin/env bash
# Runs the test suite under AddressSanitizer and then ThreadSanitizer (each in its own build folder,
# .build-asan and .build-tsan), one after the other, under nice -n SANITIZE_NICE (default 19). Prints each run's last lines and
# the sanitizer reports it found; exits non-zero if a run failed or reported anything.
#
#   tools/sanitize.sh [address|thread ...]   (default: both)
set -uo pipefail
cd "$(dirname "$0")/.."
kinds=("$@"); [ ${#kinds[@]} -eq 0 ] && kinds=(address thread)
mkdir -p tools/work
niceness=${SANITIZE_NICE:-19}
status=0
for kind in "${kinds[@]}"; do
    dir=.build-${kind:0:1}san
    log=tools/work/sanitize-$kind.log
    start=$(date +%s)
    # ASan: leaks in the Swift runtime's and Foundation's one-time caches are not the project's.
    ASAN_OPTIONS=detect_leaks=0 TSAN_OPTIONS="halt_on_error=0" \
        nice -n "$niceness" swift test --sanitize="$kind" --scratch-path "$dir" > "$log" 2>&1
    rc=$?
    reports=$(grep -c -E "^(==[0-9]+==ERROR|WARNING: ThreadSanitizer|SUMMARY: (Address|Thread)Sanitizer)" "$log")
    echo "$kind: exit $rc, $(( $(date +%s) - start )) s, $reports sanitizer report lines"
    grep -E "Executed [0-9]+ tests" "$log" | tail -1
    grep -E "SUMMARY: (Address|Thread)Sanitizer" "$log" | sort | uniq -c | head -20
    [ "$rc" -eq 0 ] && [ "$reports" -eq 0 ] || status=1
done
exit $status
