# fuzz_lib.sh — sourced by the run_*_fuzz.sh scripts: runs one built fuzzer over its corpus.
# fuzz_run NAME WORK SECS BINARY: fuzzes WORK/corpus for SECS seconds (extra environment is
# exported by the caller), prints the tail of the log, and exits non-zero with the reproducers'
# folder on a crash, leak or timeout; removes WORK afterwards unless SNG_FUZZ_DIR named it.
fuzz_run() {
    local name=$1 work=$2 secs=$3 bin=$4 rc=0
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$work/artifacts/" \
        "$work/corpus" > "$work/fuzz.log" 2>&1 || rc=$?
    tail -n 25 "$work/fuzz.log"
    if [ "$rc" -ne 0 ]; then
        echo "$name: FAILED (exit $rc); reproducers in $work/artifacts:" >&2
        ls -l "$work/artifacts" >&2 || true
        exit 1
    fi
    echo "$name: ok, no crash in ${secs}s"
    [ -n "${SNG_FUZZ_DIR:-}" ] || rm -rf "$work"
}
