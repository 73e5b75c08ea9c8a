#!/bin/bash
# Quantization quality on a sample model: RTN, imatrix, GPTQ and AWQ variants (and, with a scan,
# --target-bpw plans), compared with the base on the whole validation split and on a text outside
# the training corpus (Alice's Adventures in Wonderland); with --target, plans at 5.0 bits per weight and
# at uniform q5_0's own size. Usage:
#   bench/quantization_quality.sh sample-models/shakespeare-char-small OUT_DIR [--target]
set -euo pipefail
MODEL=$1
OUT=$2
W=${WHITTLE:-.build/release/whittle}
mkdir -p "$OUT"
make_variant() {   # name, quantize arguments...
    local name=$1; shift
    [ -d "$OUT/$name" ] || "$W" quantize --model "$MODEL" "$@" --out "$OUT/$name" > /dev/null 2> "$OUT/$name.log"
}
make_variant q8_0 --type q8_0
make_variant q5_0 --type q5_0
make_variant q5_0-all --type q5_0 --embedding-type q5_0
make_variant q4_0 --type q4_0
make_variant q4_0-all --type q4_0 --embedding-type q4_0
make_variant q4_0-imatrix --type q4_0 --method imatrix
make_variant q4_0-awq --type q4_0 --method awq
make_variant q4_0-gptq --type q4_0 --method gptq
VARIANTS=(q8_0 q5_0 q5_0-all q4_0 q4_0-all q4_0-imatrix q4_0-awq q4_0-gptq)
if [ "${3:-}" = "--target" ]; then
    [ -f "$OUT/scan.json" ] || "$W" quantize --model "$MODEL" --scan --json > "$OUT/scan.json" 2> "$OUT/scan.log"
    make_variant q5_0-gptq --type q5_0 --method gptq
    make_variant target-5.0 --target-bpw 5.0 --scan-file "$OUT/scan.json"
    make_variant target-5.0-gptq --target-bpw 5.0 --scan-file "$OUT/scan.json" --method gptq
    # Plans at uniform q5_0's own size ("at no more bytes"): its bits per weight, rounded down.
    Q5=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["weights"]["bits_per_weight"] * 1e4) / 1e4)' "$OUT/q5_0/variant.json")
    make_variant target-q5_0 --target-bpw "$Q5" --scan-file "$OUT/scan.json"
    make_variant target-q5_0-gptq --target-bpw "$Q5" --scan-file "$OUT/scan.json" --method gptq
    VARIANTS+=(q5_0-gptq target-5.0 target-5.0-gptq target-q5_0 target-q5_0-gptq)
fi
paths=(); for v in "${VARIANTS[@]}"; do paths+=("$OUT/$v"); done
"$W" compare "$MODEL" "${paths[@]}" --no-speed --json > "$OUT/compare-validation.json"
"$W" compare "$MODEL" "${paths[@]}" --no-speed --md > "$OUT/compare-validation.md"
"$W" compare "$MODEL" "${paths[@]}" --no-speed --data datasets/alice-in-wonderland.txt --md > "$OUT/compare-alice.md"
cat "$OUT/compare-validation.md" "$OUT/compare-alice.md"
