#!/usr/bin/env bash
# End-to-end test of the workbench: drives the real release binary under tmux and checks the
# screen (capture-pane) at each stage, the exit status and that the terminal settings (stty -g) are
# identical before and after, for a normal quit, for SIGINT, SIGTERM and SIGHUP, for a crash inside
# the loop (WHITTLE_TEST_CRASH), and with TERM=dumb (refused) and TERM=vt100 (ASCII, no colour).
#
#   Tests/e2e/tui.sh                 # builds .build/release/whittle if missing
#   WHITTLE=path/to/whittle Tests/e2e/tui.sh
#
# Environment: WHITTLE (binary), CONFIG (default configs/shakespeare-char-cpu.toml),
# FIRST_FRAME_LIMIT (seconds, default 1.0), E2E_ARTIFACTS (directory for screen captures; kept).
# Needs tmux; without it the test is skipped (exit 0 with a SKIP line). Run from the repository root.

set -u
cd "$(dirname "$0")/../.." || exit 1

if ! command -v tmux >/dev/null 2>&1; then
    echo "SKIP: tmux is not installed; the workbench end-to-end test needs it (apt-get install tmux)"
    exit 0
fi

WHITTLE=${WHITTLE:-.build/release/whittle}
CONFIG=${CONFIG:-configs/shakespeare-char-cpu.toml}
FIRST_FRAME_LIMIT=${FIRST_FRAME_LIMIT:-1.0}
if [ ! -x "$WHITTLE" ]; then
    echo "building $WHITTLE (swift build -c release)..."
    swift build -c release >/dev/null || { echo "FAIL: release build failed"; exit 1; }
fi
WHITTLE=$(cd "$(dirname "$WHITTLE")" && pwd)/$(basename "$WHITTLE")

WORK=$(mktemp -d "${TMPDIR:-/tmp}/whittle-e2e.XXXXXX")
ARTIFACTS=${E2E_ARTIFACTS:-$WORK/captures}
mkdir -p "$ARTIFACTS"
SOCKET="whittle-e2e-$$"
TMUX_CMD=(tmux -L "$SOCKET" -f /dev/null)
FAILURES=0
SESSION=""

cleanup() {
    "${TMUX_CMD[@]}" kill-server >/dev/null 2>&1
    if [ "$FAILURES" -eq 0 ] && [ -z "${E2E_ARTIFACTS:-}" ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

log() { printf '%s\n' "$*"; }
pass() { log "  ok   $*"; }
fail() {
    log "  FAIL $*"
    FAILURES=$((FAILURES + 1))
    if [ -n "$SESSION" ]; then capture >"$ARTIFACTS/failure-$FAILURES.txt" 2>&1 && sed 's/^/       | /' "$ARTIFACTS/failure-$FAILURES.txt" | head -45; fi
}

capture() { "${TMUX_CMD[@]}" capture-pane -p -t "$SESSION"; }
save_capture() { capture >"$ARTIFACTS/$1.txt" 2>/dev/null; }
keys() { "${TMUX_CMD[@]}" send-keys -t "$SESSION" "$@"; }

# wait_for PATTERN [SECONDS]: until the pane matches the extended regex; 0 on success.
wait_for() {
    local pattern=$1 limit=${2:-10} start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        capture 2>/dev/null | grep -Eq -- "$pattern" && return 0
        sleep 0.1
    done
    return 1
}

# wait_gone PATTERN [SECONDS]
wait_gone() {
    local pattern=$1 limit=${2:-10} start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        capture 2>/dev/null | grep -Eq -- "$pattern" || return 0
        sleep 0.1
    done
    return 1
}

# key_latency KEY PATTERN APPEARS: milliseconds from sending KEY until the pane matches PATTERN
# (APPEARS=1) or stops matching it (APPEARS=0), polling capture-pane every 10 ms; -1 after 2 s.
# The figure includes starting tmux twice, so it overstates the workbench's own latency.
key_latency() {
    local key=$1 pattern=$2 appears=$3 start now
    start=$(date +%s%N)
    keys "$key"
    while :; do
        if capture 2>/dev/null | grep -Eq -- "$pattern"; then
            [ "$appears" = 1 ] && break
        else
            [ "$appears" = 0 ] && break
        fi
        now=$(date +%s%N)
        if [ $(((now - start) / 1000000)) -gt 2000 ]; then
            echo -1
            return
        fi
        sleep 0.01
    done
    now=$(date +%s%N)
    echo $(((now - start) / 1000000))
}

# tmux_overhead: milliseconds one `keys` plus one `capture` take by themselves (two tmux clients
# started), the median of 10, measured with a key that changes nothing on screen (an unbound F12).
# key_latency's figures include this cost; the workbench's own latency is the difference.
tmux_overhead() {
    local start now samples=()
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        start=$(date +%s%N)
        keys F12
        capture >/dev/null 2>&1
        now=$(date +%s%N)
        samples+=($(((now - start) / 1000000)))
    done
    median_of "${samples[@]}"
}

# median_of N...: the median of integers (the mean of the middle two for an even count).
median_of() {
    printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}

# The step shown in the header ("step 1,234/2,000"), without separators.
current_step() { capture | head -1 | grep -Eo 'step [0-9,]+/' | head -1 | tr -dc '0-9'; }

# wait_step_above N [SECONDS]: until the header's step exceeds N; 0 on success.
wait_step_above() {
    local limit=${2:-10} start=$SECONDS step
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        step=$(current_step)
        [ -n "$step" ] && [ "$step" -gt "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# wait_exit TAG [SECONDS]: until the wrapper wrote the exit status.
wait_exit() {
    local limit=${2:-30} start=$SECONDS
    while [ $((SECONDS - start)) -lt "$limit" ]; do
        [ -s "$WORK/$1.exit" ] && return 0
        sleep 0.1
    done
    return 1
}

# launch TAG ARGS...: starts the workbench in a new 120x40 tmux session whose shell records
# stty -g before and after, the process id and the exit status. LAUNCH_ENV="K=V ..." sets variables.
launch() {
    local tag=$1
    shift
    SESSION="e2e-$tag"
    cat >"$WORK/$tag.sh" <<EOF
#!/usr/bin/env bash
stty -g >"$WORK/$tag.stty-before"
env ${LAUNCH_ENV:-} bash -c 'echo \$\$ >"$WORK/$tag.pid"; exec "\$@"' whittle "$WHITTLE" $*
echo \$? >"$WORK/$tag.exit.tmp"
stty -g >"$WORK/$tag.stty-after"
mv "$WORK/$tag.exit.tmp" "$WORK/$tag.exit"
sleep 600
EOF
    chmod +x "$WORK/$tag.sh"
    LAUNCHED_AT=$(date +%s.%N)
    "${TMUX_CMD[@]}" new-session -d -s "$SESSION" -x 120 -y 40 "$WORK/$tag.sh"
}

# check_ending TAG EXPECTED_STATUS RUN_DIR: exit status, identical stty, a checkpoint on disk.
check_ending() {
    local tag=$1 expected=$2 run=$3
    if wait_exit "$tag" 60; then
        local status
        status=$(cat "$WORK/$tag.exit")
        [ "$status" = "$expected" ] && pass "$tag: exit status $status" || fail "$tag: exit status $status, expected $expected"
    else
        fail "$tag: the workbench did not exit"
        return
    fi
    if cmp -s "$WORK/$tag.stty-before" "$WORK/$tag.stty-after"; then
        pass "$tag: stty -g identical before and after"
    else
        fail "$tag: stty -g differs: $(cat "$WORK/$tag.stty-before") vs $(cat "$WORK/$tag.stty-after")"
    fi
    if ls -d "$run"/ckpt-* >/dev/null 2>&1; then
        pass "$tag: checkpoint $(basename "$(ls -d "$run"/ckpt-* | tail -1)") saved"
    else
        fail "$tag: no checkpoint in $run"
    fi
    save_capture "$tag-after-exit"
    "${TMUX_CMD[@]}" kill-session -t "$SESSION" >/dev/null 2>&1
}

log "whittle e2e: $WHITTLE, captures in $ARTIFACTS"

# --- Not a terminal: explain, exit 2, nothing on stdout --------------------------------------
log "not a terminal"
"$WHITTLE" --config "$CONFIG" --out "$WORK/never" >"$WORK/notty.out" 2>"$WORK/notty.err" </dev/null
status=$?
[ "$status" = 2 ] && pass "exit status 2" || fail "exit status $status, expected 2"
[ ! -s "$WORK/notty.out" ] && pass "nothing written to stdout" || fail "stdout not empty: $(head -c 200 "$WORK/notty.out")"
grep -q "needs a terminal" "$WORK/notty.err" && grep -q "whittle train" "$WORK/notty.err" \
    && pass "stderr explains and names whittle train" || fail "stderr: $(cat "$WORK/notty.err")"
[ ! -e "$WORK/never" ] && pass "no run directory created" || fail "a run directory was created"

# --- Full session: progress, pause, edit, resume, help, resize, quit -------------------------
log "interactive session"
RUN="$WORK/run"
launch main --config "$CONFIG" --out "$RUN"
if wait_for 'whittle +train' 5; then
    elapsed=$(awk -v now="$(date +%s.%N)" -v start="$LAUNCHED_AT" 'BEGIN { printf "%.2f", now - start }')
    if awk -v e="$elapsed" -v limit="$FIRST_FRAME_LIMIT" 'BEGIN { exit !(e <= limit) }'; then
        pass "first frame after ${elapsed}s"
    else
        fail "first frame after ${elapsed}s (limit ${FIRST_FRAME_LIMIT}s)"
    fi
else
    fail "no first frame"
fi
save_capture 01-first-frame

if wait_for '● running' 30 && wait_for 'train [0-9]' 30; then
    start_step=$(current_step)
    wait_step_above "$(( ${start_step:-0} > 9 ? ${start_step:-0} : 9 ))" 30
    later_step=$(current_step)
    if [ -n "$later_step" ] && [ "${later_step:-0}" -gt "${start_step:-0}" ] && [ "$later_step" -ge 10 ]; then
        pass "training progresses (step $start_step -> $later_step)"
    else
        fail "no progress (step '$start_step' -> '$later_step')"
    fi
else
    fail "training did not start"
fi
save_capture 02-training

# Keypress latency while training runs: `l` toggles the loss chart's log scale (title "loss (log)").
# The issue's limit is 50 ms (median). Each figure includes starting two tmux clients (send-keys,
# capture-pane) and up to 10 ms of polling, which on a loaded 2-core machine alone can take tens of
# ms, so the limit applies to the median less the measured tmux overhead (`tmux_overhead`);
# both figures are printed. LATENCY_LIMIT_MS overrides the limit.
LATENCY_LIMIT_MS=${LATENCY_LIMIT_MS:-50}
# check_latency WHAT ON OFF PATTERN: 10 presses, alternately ON (PATTERN shows) and OFF (it goes).
check_latency() {
    local what=$1 on=$2 off=$3 pattern=$4 latencies=() overhead median worst own
    overhead=$(tmux_overhead)
    for _ in 1 2 3 4 5; do
        latencies+=("$(key_latency "$on" "$pattern" 1)")
        latencies+=("$(key_latency "$off" "$pattern" 0)")
    done
    median=$(median_of "${latencies[@]}")
    worst=$(printf '%s\n' "${latencies[@]}" | sort -n | tail -1)
    own=$((median > overhead ? median - overhead : 0))
    if printf '%s\n' "${latencies[@]}" | grep -qx -- -1; then
        fail "a key press was not reflected within 2 s $what (ms: ${latencies[*]})"
    elif [ "$own" -le "$LATENCY_LIMIT_MS" ]; then
        pass "key press reflected on screen $what: median ${median} ms with tmux, ${overhead} ms of it tmux's own, so ${own} ms (limit ${LATENCY_LIMIT_MS}); worst ${worst} ms (ms: ${latencies[*]})"
    else
        fail "key press latency $what: median ${median} ms less tmux's ${overhead} ms = ${own} ms > ${LATENCY_LIMIT_MS} ms (ms: ${latencies[*]})"
    fi
}
check_latency "while training" l l 'loss \(log\)'

keys Space
if wait_for '● paused' 10; then
    # A negative check needs a window: the header must show the same step for a second after the
    # badge (0.3 s first, for the frame of the last step to land).
    sleep 0.3
    paused_step=$(current_step)
    sleep 1
    [ "$(current_step)" = "$paused_step" ] && pass "Space pauses (step stays $paused_step)" \
        || fail "steps continue after pause ($paused_step -> $(current_step))"
else
    fail "Space did not pause"
fi
save_capture 03-paused

keys Tab
keys 3e-4
keys Enter
if wait_for 'learning_rate 0\.001 → 0\.0003' 10 && wait_for 'learning rate +0\.0003' 5; then
    pass "learning rate edited in the panel and applied"
else
    fail "learning-rate edit not applied"
fi
save_capture 04-learning-rate
grep -q '"key":"learning_rate"' "$RUN/changes.jsonl" 2>/dev/null && pass "change recorded in changes.jsonl" \
    || fail "changes.jsonl lacks the learning-rate change"

keys Space
if wait_for '● running' 10; then
    before=$(current_step)
    wait_step_above "${before:-0}" 30
    [ "$(current_step)" -gt "$before" ] && pass "Space resumes (step $before -> $(current_step))" || fail "no steps after resume"
else
    fail "Space did not resume"
fi
save_capture 05-resumed

# Mixed precision, live: precision → bf16 adds the flushed-gradients pane and the status line says
# how the run multiplies now.
for _ in $(seq 15); do keys Down; done
keys Right
if wait_for 'precision "fp32" → "bf16"' 10 && wait_for 'flushed' 10; then
    pass "precision switched to bf16 live; the flushed-gradients chart appears"
else
    fail "precision switch to bf16 not applied or not shown"
fi
save_capture 05b-bf16

# Generate screen while training runs: g, a new prompt, Enter, streamed text and timing.
keys g
if wait_for 'Type a prompt and press Enter' 5; then
    pass "g opens the Generate screen"
    for _ in 1 2 3 4 5 6; do keys BSpace; done
    keys -l 'JULIET:'
    keys Enter
    if wait_for 'decode [0-9.]+ ms/token' 30 && wait_for 'weights of step [0-9,]+' 5; then
        generated=$(capture | sed '$d' | sed -n '/^│─/,$p' | grep -v '^│─' | grep -v '^╰' | sed 's/^│ //; s/ *│$//' | tr -d '\n')
        if grep -q '^JULIET:' <<<"$generated" && [ "${#generated}" -gt 60 ]; then
            pass "Enter generates text after the prompt (${#generated} visible characters) with timing"
        else
            fail "no generated text after the prompt: '$generated'"
        fi
    else
        fail "generation did not finish"
    fi
    save_capture 06-generate
    keys Escape
    wait_for 'hyperparameters' 5 && pass "Esc returns to the Train screen" || fail "Esc did not leave the Generate screen"
    wait_for '● running' 5 && pass "training kept running while generating" || fail "training stopped while generating"
else
    fail "g did not open the Generate screen"
fi

# Compress mid-training: p opens the prune-now form; Enter prunes the live weights (magnitude 50%) at
# the next step boundary, the status bar shows the loss before and after, the loss chart marks the
# step, log.jsonl records the event, and training goes on.
keys p
if wait_for 'prune now' 5; then
    keys Enter
    if wait_for 'pruned magnitude 50%' 30 && wait_for 'prune 50%' 5; then
        pass "p prunes the live model: loss before/after in the status bar, a labelled marker on the loss chart"
    else
        fail "the prune's result or its chart marker did not appear"
    fi
    save_capture 06b-prune-now
    grep -q '"event":"prune"' "$RUN/log.jsonl" 2>/dev/null && pass "log.jsonl records the prune" \
        || fail "log.jsonl lacks the prune event"
    wait_for '● running' 5 && pass "training kept running after the prune" || fail "training stopped after the prune"
else
    fail "p did not open the prune-now form"
fi

# Runs and models: o lists the sample model, / filters, Esc clears then closes; r shows the new-run form
# with the engine's check and a memory estimate; Esc cancels.
keys o
if wait_for 'open a model or run' 5 && wait_for 'sample-models/shakespeare-char-tiny' 5; then
    pass "o lists sample-models/"
    keys /
    keys -l 'zzz'
    wait_for 'nothing matches the filter' 5 && pass "/ filters the list" || fail "the filter did not apply"
    keys Escape
    wait_for 'sample-models/shakespeare-char-tiny' 5 || fail "Esc did not clear the filter"
    keys Escape
    wait_gone 'open a model or run' 5 && pass "Esc clears the filter, then closes" || fail "the open dialog did not close"
else
    fail "o did not open the model list"
fi
keys r
if wait_for 'new run' 5 && wait_for 'parameters.{1,4}about [0-9.]+ [KMG]iB to train' 10; then
    pass "r shows the new-run form with a memory estimate"
    keys Tab Tab BSpace BSpace BSpace
    keys -l '130'
    wait_for 'divisible' 5 && pass "width not divisible by heads is refused as typed" || fail "no validation message"
    save_capture 06b-new-run
    keys Escape
    wait_gone 'new run' 5 || fail "Esc did not close the new-run form"
else
    fail "r did not open the new-run form"
fi

# Experiments screen: e shows the vary form with its defaults; Esc returns to the Train screen.
keys e
if wait_for 'experiments' 5 && wait_for 'vary 1 +optimizer=adamw,lion,sgd' 5 && wait_for 'max_iters' 5; then
    pass "e opens the Experiments screen with the vary form"
    save_capture 06c-experiments
    keys Escape
    wait_for 'hyperparameters' 5 && pass "Esc leaves the Experiments screen" || fail "Esc did not leave the Experiments screen"
else
    fail "e did not open the Experiments screen"
fi

# Compress and Compare: w opens Compress; choose the sample model, see the prediction, run a
# sensitivity scan and change two cells of the plan (the predicted size changes), apply a Q4_0 GPTQ
# pass into $WORK, see the variant measured in Compare, sort by decode time, the Pareto plot against
# latency, side by side generation, the per-tensor errors, a cancelled pass leaving nothing, a deleted
# variant marked; the screens at 200x60 and 80x24. Then a prune pass (below).
VARIANTS="$WORK/variants"
# set_output PATH: the Compress form's output row (focused) replaced by PATH.
set_output() {
    keys End
    for _ in $(seq 80); do keys BSpace; done
    keys -l "$1"
}
keys w
if wait_for 'whittle +compress' 5 && wait_for 'calibration' 5; then
    pass "w opens the Compress screen"
    for _ in 1 2; do keys BTab; done
    keys Enter
    if wait_for 'compress which model' 5 && wait_for 'sample-models/shakespeare-char-tiny' 5; then
        keys /
        keys -l 'char-tiny'
        keys Enter
    else
        fail "Enter on the model row did not list the models"
    fi
    if wait_for 'predicted variant' 10 && wait_for 'bits/weight +32\.00 +[0-9.]+' 5; then
        pass "the sample model's predicted size, bits/weight and memory show before applying"
    else
        fail "no prediction for the sample model"
    fi
    save_capture 06d-compress
    # 16 calibration windows (the calibration row), then F6: the sensitivity scan and its map.
    for _ in 1 2 3 4 5; do keys Down; done
    for _ in 1 2 3 4; do keys BSpace; done
    keys -l '16'
    keys F6
    if wait_for 'tensors .{1,2} 7 types below' 120; then
        pass "F6 scans the model: the tensors x types map"
        before=$(capture | grep -Eo '\([0-9]+ bytes\)' | head -1)
        keys Down
        for _ in 1 2 3; do keys Right; done
        keys Enter
        keys Down
        keys Right
        keys Enter
        if wait_for 'plan chosen per tensor' 5 && sleep 0.3 && after=$(capture | grep -Eo '\([0-9]+ bytes\)' | head -1) \
            && [ -n "$after" ] && [ "$after" != "$before" ]; then
            pass "two cells of the plan changed on the map: predicted size $before -> $after"
        else
            fail "changing cells on the map did not change the predicted size ($before -> ${after:-?})"
        fi
        save_capture 06d-sensitivity-map
    else
        fail "the sensitivity scan did not finish"
    fi
    # A Q4_0 GPTQ pass: method two choices right of rtn, the type row back at q4_0 (the plan uniform again).
    for _ in 1 2 3 4; do keys BTab; done
    keys Right Right
    keys BTab BTab
    keys Left Right
    for _ in 1 2 3 4 5; do keys Tab; done
    set_output "$VARIANTS/tiny-q4_0-gptq"
    keys F5
    if wait_for 'whittle +compare' 60 && wait_for 'speed on 1 thread' 120 && wait_for 'tiny-q4_0-gptq' 5; then
        pass "a Q4_0 GPTQ pass made the variant, which opens in Compare measured against its base"
        [ -s "$VARIANTS/tiny-q4_0-gptq/model.gguf" ] && pass "the variant directory holds model.gguf" \
            || fail "no $VARIANTS/tiny-q4_0-gptq/model.gguf"
        grep -q '"method": "gptq"' "$VARIANTS/tiny-q4_0-gptq/variant.json" && pass "its variant.json records gptq" \
            || fail "variant.json does not record gptq"
        wait_for '[0-9.]+.{1,2} smaller' 5 && pass "Compare says how much smaller, in words" || fail "no smaller? words"
    else
        fail "the pass or its comparison did not finish"
    fi
    save_capture 06e-compare
    for _ in $(seq 7); do keys Right; done
    wait_for 'sorted by ms/tok' 5 && pass "sorted by decode time" || fail "could not sort by decode time"
    keys p
    wait_for 'loss against decode ms/token' 5 && wait_for 'Pareto front' 5 && pass "p plots loss against decode latency" \
        || fail "no Pareto plot against latency"
    save_capture 06f-pareto
    keys g
    keys Enter
    if wait_for 'tok/s \(' 60 && wait_gone 'generating\.\.\.' 60; then
        pass "side by side generation shows tokens/s under each model"
    else
        fail "side by side generation did not finish"
    fi
    save_capture 06g-side-by-side
    keys t
    if wait_for 'weight error per tensor' 5 && wait_for 'blk|h\.[0-9]\.(attn|mlp)\.[a-z_]+\.weight +q4_0 .*[0-9]\.[0-9]+e-[0-9]+' 30; then
        pass "t shows the selected variant's weight error per tensor, worst first"
    else
        fail "no per-tensor error view"
    fi
    save_capture 06g-tensor-errors
    keys w
    set_output "$VARIANTS/cancelled"
    keys F5 F8
    if wait_for 'pass cancelled; nothing was written' 30; then
        [ ! -e "$VARIANTS/cancelled" ] && pass "a cancelled pass leaves no directory" || fail "$VARIANTS/cancelled exists after cancel"
    elif wait_for 'made .*cancelled' 1; then
        log "  note the pass finished before the cancel arrived; the cancel is covered by the unit tests"
    else
        fail "the pass was not cancelled"
    fi
    keys F3
    rm -rf "$VARIANTS/tiny-q4_0-gptq"
    wait_for 'deleted from outside' 10 && pass "a variant deleted from outside is marked" || fail "the deletion was not noticed"
    keys p
    "${TMUX_CMD[@]}" resize-window -t "$SESSION" -x 200 -y 60
    wait_for 'loss against file size' 5 && wait_for 'pp t/s' 5 && pass "Compare at 200x60: wide table and plot" \
        || fail "Compare at 200x60"
    save_capture 06h-compare-200x60
    "${TMUX_CMD[@]}" resize-window -t "$SESSION" -x 80 -y 24
    wait_for 'ms/tok' 5 && wait_gone 'pp t/s' 5 && pass "Compare at 80x24: the narrow table" || fail "Compare at 80x24"
    save_capture 06i-compare-80x24
    keys w
    wait_for 'predicted variant' 5 && pass "Compress at 80x24" || fail "Compress at 80x24"
    "${TMUX_CMD[@]}" resize-window -t "$SESSION" -x 120 -y 40
    keys Escape
    wait_for 'hyperparameters' 5 && pass "Esc leaves the Compress screen" || fail "Esc did not leave the Compress screen"
else
    fail "w did not open the Compress screen"
fi

# A prune pass: back in Compress, the pass row's → chooses prune (Wanda 50% by default), the
# prediction shows before applying; a first pass on 2000 calibration windows gives the time to
# measure key latency while it runs (Tab and Shift-Tab move the focus between the output and model
# rows), then F8 cancels it and nothing is written; then Wanda 50% on 32 windows appears in Compare
# with the predicted file size.
# focus_row LABEL: Shift-Tab until the Compress form's pointer is on LABEL's row.
focus_row() {
    for _ in $(seq 14); do
        capture | grep -Eq "▸ $1 " && return 0
        keys BTab
        sleep 0.05
    done
    return 1
}
keys w
if wait_for 'whittle +compress' 5 && focus_row pass; then
    keys Right
    if wait_for 'zero single weights' 5 && wait_for 'parameters .* set to zero' 5 && wait_for 'model\.sparse\.safetensors' 5; then
        pass "the prune pass predicts the sparse file, bits/weight, memory and parameters before applying"
    else
        fail "no prune prediction"
    fi
    save_capture 06j-prune-form
    focus_row calibration && { for _ in 1 2 3 4 5 6; do keys BSpace; done; keys -l '2000'; }
    focus_row output && set_output "$VARIANTS/latency"
    keys F5
    if wait_for '[0-9]+% calibrating' 20; then
        check_latency "while a prune pass runs" Tab BTab '▸ model '
        capture | grep -Eq '[0-9]+% (calibrating|pruning)' && pass "the pass was still running after the key presses" \
            || fail "the pass ended before the latency was measured"
        save_capture 06k-prune-running
        keys F8
        if wait_for 'pass cancelled; nothing was written' 30; then
            [ ! -e "$VARIANTS/latency" ] && pass "a cancelled prune pass leaves no directory" || fail "$VARIANTS/latency exists after cancel"
        else
            fail "the prune pass was not cancelled"
        fi
    else
        fail "the prune pass did not start"
    fi
    focus_row calibration && { for _ in 1 2 3 4 5 6; do keys BSpace; done; keys -l '32'; }
    focus_row output && set_output "$VARIANTS/tiny-wanda50"
    sleep 0.3
    predicted=$(capture | grep -Eo '\([0-9]+ bytes, model\.sparse' | tr -dc '0-9')
    keys F5
    if wait_for 'whittle +compare' 60 && wait_for 'tiny-wanda50' 10 && wait_for 'speed on 1 thread' 120; then
        pass "prune 50% with Wanda: the variant appears in Compare, measured against its base"
        written=$(stat -c %s "$VARIANTS/tiny-wanda50/model.sparse.safetensors" 2>/dev/null)
        [ -n "$predicted" ] && [ "$written" = "$predicted" ] && pass "its file has the predicted size ($written bytes)" \
            || fail "predicted ${predicted:-?} bytes, wrote ${written:-none}"
        grep -q '"method": "wanda"' "$VARIANTS/tiny-wanda50/variant.json" && pass "its variant.json records the wanda pass" \
            || fail "variant.json does not record wanda"
    else
        fail "the prune pass or its comparison did not finish"
    fi
    save_capture 06l-compare-pruned
    keys Escape
    wait_for 'hyperparameters' 5 || keys Escape
else
    fail "w did not reopen the Compress screen on its pass row"
fi

# A distil pass: back in Compress, the pass row's → moves from prune to distil; the student's
# defaults for the teacher (half its blocks, its width and heads) and the prediction (file, bits per
# weight, memory, parameters, steps × tokens) show before training. A 2000-step pass gives the time to
# measure key latency while it trains, then F8 cancels it and its run directory is gone; then a
# 20-step one-block student appears in Compare with the predicted file size.
STUDENTS="$WORK/runs"
keys w
if wait_for 'whittle +compress' 5 && focus_row pass; then
    keys Right
    if wait_for 'train a smaller student' 5 && wait_for 'predicted student' 5 && wait_for 'steps .*tokens' 5 \
        && wait_for 'layers +2 ' 5; then
        pass "the distil pass shows the teacher's default student and its prediction before training"
    else
        fail "no distil form or prediction"
    fi
    save_capture 06m-distil-form
    focus_row steps && { for _ in 1 2 3 4 5 6; do keys BSpace; done; keys -l '2000'; }
    focus_row output && set_output "$STUDENTS/latency-student"
    keys F5
    if wait_for '[0-9]+% step [0-9]+/2000' 60; then
        check_latency "while a distil pass trains" Tab BTab '▸ teacher '
        capture | grep -Eq '[0-9]+% step [0-9]+/2000' && pass "the distil pass was still training after the key presses" \
            || fail "the distil pass ended before the latency was measured"
        save_capture 06n-distil-running
        keys F8
        if wait_for 'pass cancelled; nothing was written' 30; then
            [ ! -e "$STUDENTS/latency-student" ] && pass "a cancelled distil pass leaves no run directory" \
                || fail "$STUDENTS/latency-student exists after cancel"
        else
            fail "the distil pass was not cancelled"
        fi
    else
        fail "the distil pass did not start"
    fi
    focus_row steps && { for _ in 1 2 3 4 5 6; do keys BSpace; done; keys -l '20'; }
    focus_row layers && { keys End BSpace; keys -l '1'; }
    focus_row output && set_output "$STUDENTS/tiny-student"
    sleep 0.3
    predicted=$(capture | grep -Eo '\([0-9]+ bytes, model\.safetensors' | tr -dc '0-9')
    keys F5
    if wait_for 'whittle +compare' 120 && wait_for 'tiny-student' 10 && wait_for 'speed on 1 thread' 120; then
        pass "a 20-step distilled student appears in Compare, measured against its teacher"
        written=$(stat -c %s "$STUDENTS/tiny-student/student/model.safetensors" 2>/dev/null)
        [ -n "$predicted" ] && [ "$written" = "$predicted" ] && pass "the student's file has the predicted size ($written bytes)" \
            || fail "predicted ${predicted:-?} bytes, wrote ${written:-none}"
        grep -q '"distill"' "$STUDENTS/tiny-student/student/variant.json" && pass "its variant.json records the distill pass" \
            || fail "variant.json does not record the distill pass"
    else
        fail "the distil pass or its comparison did not finish"
    fi
    save_capture 06o-compare-distilled
    keys Escape
    wait_for 'hyperparameters' 5 || keys Escape
else
    fail "w did not reopen the Compress screen on its pass row"
fi

keys '?'
wait_for 'start / pause / resume training' 5 && pass "? opens the help" || fail "help did not open"
save_capture 07-help
keys Escape
wait_gone 'start / pause / resume training' 5 && pass "Esc closes the help" || fail "help did not close"

"${TMUX_CMD[@]}" resize-window -t "$SESSION" -x 70 -y 20
wait_for 'needs 80.24' 5 && wait_for 'have 70.20' 5 && pass "70x20 shows the size screen" || fail "no size screen at 70x20"
save_capture 07-small
"${TMUX_CMD[@]}" resize-window -t "$SESSION" -x 120 -y 40
wait_for 'hyperparameters' 5 && wait_gone 'needs 80.24' 5 && pass "back at 120x40 the train screen returns" \
    || fail "train screen did not return after resize"
save_capture 08-restored

keys q
if wait_for 'Save a checkpoint and quit\?' 5; then
    pass "q asks before quitting an unsaved run"
    save_capture 09-quit-dialog
    keys y
else
    fail "q did not ask"
fi
check_ending main 0 "$RUN"
grep -q "continue with: whittle --resume" <<<"$(capture 2>/dev/null)$(cat "$ARTIFACTS/main-after-exit.txt")" \
    && pass "after exit: how to continue" || fail "no resume hint after exit"

# --- Resume the run, then SIGTERM ----------------------------------------------------------------
log "resume, then SIGTERM"
last=$(ls -d "$RUN"/ckpt-* | tail -1)
last_step=$((10#${last##*ckpt-}))
launch resume --resume "$RUN"
if wait_for '● running' 30; then
    wait_step_above "$last_step" 30
    step=$(current_step)
    [ "${step:-0}" -gt "$last_step" ] && pass "resumed past step $last_step (now $step)" || fail "resume did not continue ($step <= $last_step)"
    wait_for '0\.0003' 5 && pass "resumed run keeps learning_rate 0.0003" || fail "resumed run lost the edited learning rate"
else
    fail "resumed run did not start"
fi
kill -TERM "$(cat "$WORK/resume.pid")"
check_ending resume 143 "$RUN"

# --- Signals ----------------------------------------------------------------------------------
for spec in "sigint:130" "sigterm:143" "sighup:129"; do
    tag=${spec%%:*}
    expected=${spec##*:}
    log "$tag"
    launch "$tag" --config "$CONFIG" --out "$WORK/$tag-run"
    if wait_for '● running' 30 && wait_for 'train [0-9]' 30; then
        case $tag in
            sigint) keys C-c ;;
            sigterm) kill -TERM "$(cat "$WORK/$tag.pid")" ;;
            sighup) kill -HUP "$(cat "$WORK/$tag.pid")" ;;
        esac
        check_ending "$tag" "$expected" "$WORK/$tag-run"
    else
        fail "$tag: training did not start"
    fi
done

# check_stty TAG: identical stty -g before and after.
check_stty() {
    if cmp -s "$WORK/$1.stty-before" "$WORK/$1.stty-after"; then
        pass "$1: stty -g identical before and after"
    else
        fail "$1: stty -g differs: $(cat "$WORK/$1.stty-before") vs $(cat "$WORK/$1.stty-after")"
    fi
}

# --- A crash inside the loop: terminal restored, then the message; no interactive backtrace ----
log "crash inside the workbench loop"
LAUNCH_ENV="WHITTLE_TEST_CRASH=30" launch crash --config "$CONFIG" --out "$WORK/crash-run"
if wait_exit crash 20; then
    status=$(cat "$WORK/crash.exit")
    [ "$status" -gt 128 ] && pass "crash: died by signal $((status - 128)) (exit $status)" || fail "crash: exit status $status"
    elapsed=$(awk -v now="$(date +%s.%N)" -v start="$LAUNCHED_AT" 'BEGIN { printf "%.1f", now - start }')
    awk -v e="$elapsed" 'BEGIN { exit !(e < 15) }' && pass "crash: exited after ${elapsed}s, without waiting" \
        || fail "crash: took ${elapsed}s"
    check_stty crash
    wait_for 'Fatal error: injected crash' 5 && pass "crash: the fatal message shows on the restored terminal" \
        || fail "crash: the fatal message is not on the terminal"
    save_capture crash-after-exit
else
    fail "crash: the workbench did not exit within 20 s (an interactive backtrace?)"
fi
"${TMUX_CMD[@]}" kill-session -t "$SESSION" >/dev/null 2>&1

# --- TERM=dumb: a clear error instead of a blank screen ------------------------------------------
log "TERM=dumb"
LAUNCH_ENV="TERM=dumb" launch dumb --config "$CONFIG" --out "$WORK/dumb-run"
if wait_exit dumb 20; then
    status=$(cat "$WORK/dumb.exit")
    [ "$status" = 2 ] && pass "dumb: exit status 2" || fail "dumb: exit status $status, expected 2"
    check_stty dumb
    wait_for 'cannot move the cursor' 5 && pass "dumb: says the terminal cannot move the cursor" || fail "dumb: no explanation"
    [ ! -e "$WORK/dumb-run/config.toml" ] && pass "dumb: no run started" || fail "dumb: a run was started"
else
    fail "dumb: the workbench did not exit"
fi
"${TMUX_CMD[@]}" kill-session -t "$SESSION" >/dev/null 2>&1

# --- A run another process is writing: refused before the terminal is taken over ----------------
log "run in use by another process"
"$WHITTLE" train --config "$CONFIG" --set max_iters=100000 --set eval_interval=100000 --out "$WORK/busy-run" --quiet --force \
    >/dev/null 2>&1 &
writer=$!
for _ in $(seq 100); do [ -s "$WORK/busy-run/log.jsonl" ] && break; sleep 0.1; done
launch busy --resume "$WORK/busy-run"
if wait_exit busy 20; then
    status=$(cat "$WORK/busy.exit")
    [ "$status" = 75 ] && pass "busy: exit status 75" || fail "busy: exit status $status, expected 75"
    check_stty busy
    wait_for "in use by another process \\(PID $writer\\)" 5 && pass "busy: names the writer's PID" || fail "busy: no PID in the message"
else
    fail "busy: the workbench did not exit"
fi
kill -INT "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
"${TMUX_CMD[@]}" kill-session -t "$SESSION" >/dev/null 2>&1

# --- TERM=vt100: ASCII glyphs and no colour --------------------------------------------------------
# (with a 2-layer config: the workbench trains the --config shape, not the sample model's 4 layers)
log "TERM=vt100"
sed -e 's/^n_layer *=.*/n_layer = 2/' "$CONFIG" >"$WORK/two-layers.toml"
LAUNCH_ENV="TERM=vt100" launch vt100 --config "$WORK/two-layers.toml" --out "$WORK/vt100-run"
if wait_for 'whittle +train' 10 && wait_for '(running|paused)' 30; then
    save_capture vt100
    if capture | LC_ALL=C grep -q $'[\x80-\xff]'; then fail "vt100: non-ASCII characters on screen"; else pass "vt100: ASCII only"; fi
    if "${TMUX_CMD[@]}" capture-pane -p -e -t "$SESSION" | grep -Eq $'\e\\[([0-9]+;)*[34][0-8](;[0-9]+)*m'; then
        fail "vt100: colour escapes on screen"
    else
        pass "vt100: no colours"
    fi
    keys v
    if wait_for 'No variants yet' 5; then
        save_capture vt100-compare
        if capture | LC_ALL=C grep -q $'[\x80-\xff]'; then fail "vt100: non-ASCII on the Compare screen"; else pass "vt100: Compare in ASCII"; fi
    else
        fail "vt100: v did not open the Compare screen"
    fi
    keys Escape
    keys q
    wait_for 'quit\?' 5 && keys y
    if wait_exit vt100 60; then
        status=$(cat "$WORK/vt100.exit")
        [ "$status" = 0 ] && pass "vt100: exit status 0" || fail "vt100: exit status $status"
        check_stty vt100
        grep -q '^n_layer = 2' "$WORK/vt100-run/config.toml" && grep -q '^init_from = "scratch"' "$WORK/vt100-run/config.toml" \
            && pass "vt100: the run has the --config shape (2 layers, from scratch)" \
            || fail "vt100: the run's config.toml: $(grep -E '^(n_layer|init_from)' "$WORK/vt100-run/config.toml")"
    else
        fail "vt100: the workbench did not exit"
    fi
else
    fail "vt100: no frame"
fi
"${TMUX_CMD[@]}" kill-session -t "$SESSION" >/dev/null 2>&1

if [ "$FAILURES" -eq 0 ]; then
    log "PASS: workbench end-to-end"
    exit 0
fi
log "FAIL: $FAILURES check(s) failed; captures in $ARTIFACTS"
exit 1
