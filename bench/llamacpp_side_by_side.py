#!/usr/bin/env python3
"""llama.cpp's prefill and decode speed on GGUF files, measured the way `whittle bench infer` measures
Whittle: ppN = one llama_decode of N prompt tokens into an empty KV cache (tokens/s), tgN = N
single-token llama_decode calls from an empty cache (ms/token), one untimed warm-up of each, then
--repetitions timed runs; medians and all runs are printed.

A measuring tool, never a project dependency: it needs llama-cpp-python, built for this CPU:
    CMAKE_ARGS="-DGGML_NATIVE=ON" pip install llama-cpp-python

Side by side with Whittle (interleaved rounds, same files, same thread count):
    python3 bench/llamacpp_side_by_side.py --threads 2 --rounds 5 \
        --whittle .build/release/whittle variants/baby-f32/model.gguf variants/baby-q4_0/model.gguf
Without --whittle only llama.cpp runs. Token ids are a fixed pseudo-random sequence over the
vocabulary (speed does not depend on them), as in Whittle's InferenceBench.
"""
import argparse
import ctypes
import json
import os
import statistics
import subprocess
import sys
import time


def token_sequence(count, vocab):
    """The same LCG Whittle's InferenceBench uses, so both programs see the same ids."""
    state = 0x2545F4914F6CDD1D
    mask = (1 << 64) - 1
    out = []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & mask
        out.append((state >> 33) % vocab)
    return out


@__import__("functools").lru_cache(maxsize=None)
def quiet_logs():
    """Silences llama.cpp's loading messages (the callback must outlive every call)."""
    import llama_cpp as L
    callback = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(callback, ctypes.c_void_p(0))
    return callback


class LlamaRunner:
    def __init__(self, path, threads, context):
        import llama_cpp as L
        self.L = L
        quiet_logs()
        L.llama_backend_init()
        mp = L.llama_model_default_params()
        mp.use_mmap = True
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        if not self.model:
            raise SystemExit(f"llama.cpp could not load {path}")
        vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(vocab)
        self.n_ctx_train = L.llama_model_n_ctx_train(self.model)
        cp = L.llama_context_default_params()
        cp.n_ctx = min(context, self.n_ctx_train)
        cp.n_batch = cp.n_ctx
        cp.n_ubatch = cp.n_ctx
        cp.n_threads = threads
        cp.n_threads_batch = threads
        cp.no_perf = False
        self.ctx = L.llama_init_from_model(self.model, cp)
        if not self.ctx:
            raise SystemExit(f"llama.cpp could not make a context for {path}")
        self.batch = L.llama_batch_init(cp.n_ctx, 0, 1)

    def _fill(self, tokens, first_pos, last_logits_only=True):
        b = self.batch
        b.n_tokens = len(tokens)
        for i, t in enumerate(tokens):
            b.token[i] = t
            b.pos[i] = first_pos + i
            b.n_seq_id[i] = 1
            b.seq_id[i][0] = 0
            b.logits[i] = 1 if (i == len(tokens) - 1 or not last_logits_only) else 0

    def _clear(self):
        L = self.L
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def prefill_seconds(self, tokens):
        self._clear()
        self._fill(tokens, 0)
        start = time.perf_counter()
        rc = self.L.llama_decode(self.ctx, self.batch)
        seconds = time.perf_counter() - start
        if rc != 0:
            raise SystemExit(f"llama_decode returned {rc}")
        return seconds

    def decode_seconds(self, tokens):
        self._clear()
        L = self.L
        total = 0.0
        for i, t in enumerate(tokens):
            self._fill([t], i)
            start = time.perf_counter()
            rc = L.llama_decode(self.ctx, self.batch)
            total += time.perf_counter() - start
            if rc != 0:
                raise SystemExit(f"llama_decode returned {rc}")
        return total

    def system_info(self):
        return self.L.llama_print_system_info().decode()


def llama_round(runner, prompt, decode, repetitions):
    runner.prefill_seconds(prompt)
    runner.decode_seconds(decode)
    pp, tg = [], []
    for _ in range(repetitions):
        pp.append(len(prompt) / runner.prefill_seconds(prompt))
        tg.append(runner.decode_seconds(decode) * 1000 / len(decode))
    return statistics.median(pp), statistics.median(tg)


def whittle_round(binary, path, threads, prompt, decode, repetitions):
    out = subprocess.run([binary, "bench", "infer", "--model", path, "--threads", str(threads),
                          "--prompt-tokens", str(prompt), "--decode-tokens", str(decode),
                          "--repetitions", str(repetitions), "--json"],
                         check=True, capture_output=True, text=True).stdout
    speed = json.loads(out)[0]["speed"]
    pp, tg = speed["prefill_tokens_per_s"], speed["decode_ms_per_token"]
    # The median of Whittle's repetitions, as for llama.cpp's.
    return statistics.median(pp["samples"]), statistics.median(tg["samples"])


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("gguf", nargs="+", help="GGUF files (e.g. a Whittle variant's model.gguf)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--prompt-tokens", type=int, default=256)
    p.add_argument("--decode-tokens", type=int, default=128)
    p.add_argument("--repetitions", type=int, default=5, help="timed runs per round (after one warm-up)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (llama.cpp, Whittle, llama.cpp, …)")
    p.add_argument("--whittle", action="append", default=[],
                   help="path of a release `whittle` binary to interleave with (repeatable: e.g. before and after a change)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()

    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        name = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name"))
        fam = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("cpu family"))
        mod = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model\t"))
        flags = next(l.split(":", 1)[1].split() for l in info.splitlines() if l.startswith("flags"))
        simd = [f for f in ("avx2", "fma", "f16c", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16") if f in flags]
        cpu = f"{name} family {fam} model {mod}, {os.cpu_count()} CPUs, {' '.join(simd)}"
    except (OSError, StopIteration):
        pass

    runners = {path: LlamaRunner(path, args.threads, args.prompt_tokens) for path in args.gguf}
    results = []
    for path, runner in runners.items():
        prompt = token_sequence(min(args.prompt_tokens, runner.n_ctx_train), runner.n_vocab)
        decode = token_sequence(min(args.decode_tokens, runner.n_ctx_train), runner.n_vocab)
        rows = {"file": path, "llama_pp": [], "llama_tg_ms": [],
                "whittle": {binary: {"pp": [], "tg_ms": []} for binary in args.whittle}}
        for _ in range(args.rounds):
            pp, tg = llama_round(runner, prompt, decode, args.repetitions)
            rows["llama_pp"].append(pp)
            rows["llama_tg_ms"].append(tg)
            for binary in args.whittle:
                pp, tg = whittle_round(binary, path, args.threads, len(prompt), len(decode), args.repetitions)
                rows["whittle"][binary]["pp"].append(pp)
                rows["whittle"][binary]["tg_ms"].append(tg)
        results.append(rows)

    if args.json:
        print(json.dumps({"cpu": cpu, "threads": args.threads, "results": results}, indent=2))
        return
    print(f"CPU: {cpu}; {args.threads} threads; pp{args.prompt_tokens} / tg{args.decode_tokens}; "
          f"{args.rounds} interleaved rounds × {args.repetitions} repetitions; medians of the rounds")
    print(f"llama.cpp: {next(iter(runners.values())).system_info().strip()}")
    print("| file | program | pp t/s | pp vs llama.cpp | tg ms/token | tg speed vs llama.cpp |")
    print("|---|---|---|---|---|---|")
    for r in results:
        lp, lt = statistics.median(r["llama_pp"]), statistics.median(r["llama_tg_ms"])
        print(f"| {r['file']} | llama.cpp | {lp:.0f} | 1.00 | {lt:.3f} | 1.00 |")
        for binary, w in r["whittle"].items():
            wp, wt = statistics.median(w["pp"]), statistics.median(w["tg_ms"])
            print(f"| {r['file']} | {binary} | {wp:.0f} | {wp / lp:.2f} | {wt:.3f} | {lt / wt:.2f} |")
    print("rounds (pp t/s, tg ms/token):")
    for r in results:
        print(f"  {r['file']}: llama.cpp pp {[round(x) for x in r['llama_pp']]} tg {[round(x, 3) for x in r['llama_tg_ms']]}")
        for binary, w in r["whittle"].items():
            print(f"    {binary}: pp {[round(x) for x in w['pp']]} tg {[round(x, 3) for x in w['tg_ms']]}")

if __name__ == "__main__":
    main()
