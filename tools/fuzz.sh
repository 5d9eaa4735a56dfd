#!/usr/bin/env bash
# Runs ZipAR's libFuzzer targets (tools/fuzz/), each for SECONDS (default 30): FUZZ_JOBS at a time (default
# 1, one after another), under nice -n FUZZ_NICE (default 19). Two invocations with different targets may run
# side by side. Seeds come from the test fixtures; the growing corpora and any crashing inputs stay in
# tools/work/fuzz/ (not committed). Prints one summary line per target (executions, coverage, findings)
# and exits non-zero if any target found a crash, a leak, a timeout or an allocation past the limits.
#
#   tools/fuzz.sh [SECONDS] [TARGET ...]   targets: safetensors zip pickle png config tokens tokenizer yaml
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}; shift || true
targets=("$@"); [ ${#targets[@]} -eq 0 ] && targets=(safetensors zip pickle png config tokens tokenizer yaml)
fixtures=Tests/ZipARTests/Fixtures
work=tools/work/fuzz

(cd tools/fuzz && nice -n 19 swift build -c release --scratch-path ../../.build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing 2>&1 | grep -E "error|Compiling|Build" | grep -v warning || true)
# A copy runs, so that rebuilding during a campaign leaves it alone.
mkdir -p "$work/bin"
# Foundation's NSRegularExpression keeps every pattern it compiles: suppressed by name, so leaks in our own
# code are still findings in every target, the tokenizer's included.
export LSAN_OPTIONS="suppressions=$PWD/tools/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
fuzzer=$work/bin/zipar-fuzz
jobs_at_once=${FUZZ_JOBS:-1}
niceness=${FUZZ_NICE:-19}
# Copied and renamed, so that another invocation's running copy is left alone.
cp .build-fuzz/release/zipar-fuzz "$fuzzer.$$" && mv "$fuzzer.$$" "$fuzzer"

# Seed corpora from the fixtures.
seed() {  # seed TARGET FILE...
    mkdir -p "$work/seeds/$1"
    local t=$1; shift
    for f in "$@"; do cp "$f" "$work/seeds/$t/$(echo "$f" | tr '/' '_')"; done
}
for t in "${targets[@]}"; do rm -rf "$work/seeds/$t"; done
seed safetensors $(find $fixtures Sources/zipar/DefaultModel -name '*.safetensors' -size -100k)
seed zip $fixtures/pt/*.pt $fixtures/conformance/*/*/model.pt
mkdir -p "$work/seeds/pickle"
python3 - "$work/seeds/pickle" $fixtures/pt/*.pt <<'PY'
import sys, zipfile
for i, path in enumerate(sys.argv[2:]):
    try:
        with zipfile.ZipFile(path) as z:
            for name in z.namelist():
                if name.endswith("data.pkl"):
                    open(f"{sys.argv[1]}/{i}.pkl", "wb").write(z.read(name))
    except zipfile.BadZipFile:
        pass
PY
seed png $fixtures/classifier/glyphs.png docs/images/*.png
seed config $(find $fixtures Sources/zipar/DefaultModel -name config.json -o -name generation_config.json)
mkdir -p "$work/seeds/tokens"
echo '{"height": 2, "width": 3, "tokens": [1, 2, 3, 4, 5, 6]}' > "$work/seeds/tokens/a.json"
echo '{"tokens":[7],"width":1,"height":1}' > "$work/seeds/tokens/b.json"
seed tokenizer $(find $fixtures/janus -name tokenizer.json | head -2)
seed yaml $fixtures/lumina/vqgan/vqgan.yaml

# The inputs fuzzing once found (and the cases each target must refuse) seed their targets too.
for t in "${targets[@]}"; do
    [ -d "$fixtures/fuzz/$t" ] && seed "$t" "$fixtures/fuzz/$t"/*
done

# The source files whose coverage each target reports.
declare -A parsers=(
    [safetensors]="Safetensors.swift Checkpoint.swift JSONInput.swift"
    [zip]="ZipArchive.swift TorchCheckpoint.swift Unpickler.swift Checkpoint.swift"
    [pickle]="Unpickler.swift PickleValue.swift"
    [png]="PNG.swift Inflate.swift Checksums.swift"
    [config]="ModelFiles.swift JSONInput.swift GPTConfig.swift VQConfig.swift JanusConfig.swift LuminaConfig.swift GenerationConfig.swift MemoryBudget.swift"
    [tokens]="TokenFile.swift JSONInput.swift"
    [tokenizer]="TokenizerFile.swift BPEModel.swift BPETokenizer.swift PreTokenizer.swift AddedTokens.swift OnigurumaPattern.swift JSONInput.swift"
    [yaml]="MiniYAML.swift ChameleonVQGAN.swift"
)

run_target() {  # run_target TARGET: fuzzes it, then writes its summary to $work/TARGET.summary
    local t=$1 flags=() log="$work/$1.log" runs cov found
    mkdir -p "$work/corpus/$t" "$work/findings/$t"
    case $t in
        safetensors|config|tokens|tokenizer) flags=(-dict=tools/fuzz/json.dict) ;;
        # The two small seed PNGs stay whole; the large README images would slow every run tenfold.
        png) flags=(-max_len=40000) ;;
    esac
    # Limits: 2 GB resident, no single allocation over 256 MB, 10 s per input.
    ZIPAR_FUZZ_TARGET=$t nice -n "$niceness" "$fuzzer" "$work/corpus/$t" "$work/seeds/$t" "${flags[@]}" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 \
        -artifact_prefix="$work/findings/$t/" -print_final_stats=1 > "$log" 2>&1 || true
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -E '^#[0-9]+' "$log" | tail -1 | grep -o 'cov: [0-9]* ft: [0-9]*' || echo "cov: ?")
    found=$(ls "$work/findings/$t" | wc -l)
    { echo "fuzz $t: ${seconds}s, $runs executions, $cov, corpus $(ls "$work/corpus/$t" | wc -l) files, findings $found"
    # Edges reached in the parser's own files, replaying the corpus (libFuzzer's -print_coverage).
    { ZIPAR_FUZZ_TARGET=$t nice -n "$niceness" "$fuzzer" "$work/corpus/$t" -runs=0 -print_coverage=1 -artifact_prefix="$work/findings/$t/replay-" 2>&1 || true; } \
        | awk -v files="${parsers[$t]}" '
            BEGIN { n = split(files, f, " ") }
            /^(UN)?COVERED_FUNC:/ {
                split($5, e, "/")
                for (i = 1; i <= n; i++) if (index($NF, "/" f[i] ":")) { hit[f[i]] += e[1]; all[f[i]] += e[2] }
            }
            END { for (i = 1; i <= n; i++) printf "    %s: %d of %d edges\n", f[i], hit[f[i]], all[f[i]] }'
      ls "$work/findings/$t" | sed 's/^/    finding: /'; } > "$work/$t.summary"
}

for t in "${targets[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_at_once" ]; do wait -n || true; done
    run_target "$t" &
done
wait
status=0
for t in "${targets[@]}"; do
    cat "$work/$t.summary"
    [ -z "$(ls "$work/findings/$t")" ] || status=1
done
exit $status
