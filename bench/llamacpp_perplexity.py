#!/usr/bin/env python3
"""llama.cpp's mean next-token loss on Whittle variants, beside Whittle's own, on the same windows.

For each variant directory (or model directory) holding a model.gguf, this loads the file in llama.cpp,
greedily generates a few tokens from a prompt (to show the file runs end to end), and scores the text
the way `whittle eval` does (Sources/WhittleEngine/Evaluation/Evaluator.swift, EvaluationWindows): the
validation split of the base's dataset (nanoGPT's cut: the first int(n * (1 - val_fraction)) tokens
train, the rest validate), or --data FILE whole, cut into floor((n - 1) / T) non-overlapping windows of
T = the model's context length; window w feeds tokens [wT, wT + T) and is scored on tokens
[wT + 1, wT + T + 1). Each window starts from an empty KV cache; llama.cpp's logits at every position
(logits_all) give log-softmax at the target. Then `whittle eval --model DIR --json` scores the same
directory and both losses are printed side by side with their difference.

A measuring tool, never a project dependency: it needs llama-cpp-python (0.3.x) and numpy.
    python3 bench/llamacpp_perplexity.py --whittle .build/release/whittle variants/tiny-q4_0 variants/tiny-q8_0
Token ids come from the base model's tokenizer.json (the character map Whittle uses); llama.cpp's own
tokenizer is checked to give the same ids on the first 4,096 characters of the text.
Known, expected differences: llama.cpp evaluates GELU through an fp16 table and keeps an f16 KV cache,
which moves the loss by a few 1e-6 against an exact fp32 evaluation (shared/notes/gguf-and-llamacpp.md).
"""
import argparse
import ctypes
import json
import math
import os
import subprocess
import sys
import time

import numpy as np


def read_toml_value(path, key):
    """The value of a flat `key = value` line (strings unquoted); None when absent."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("#") or "=" not in line:
                continue
            name, value = (part.strip() for part in line.split("=", 1))
            if name == key:
                return value[1:-1] if value.startswith('"') else value
    return None


def base_directory(directory):
    """The directory whose tokenizer.json the variant uses: itself, or the base named in variant.json."""
    if os.path.exists(os.path.join(directory, "tokenizer.json")):
        return directory
    with open(os.path.join(directory, "variant.json"), encoding="utf-8") as f:
        return json.load(f)["base"]["path"]


def encode(text, tokenizer_path):
    with open(tokenizer_path, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    return np.array([vocab[ch] for ch in text], dtype=np.int32)


def evaluation_tokens(directory, data):
    """(token ids, description) of the text `whittle eval` scores for `directory`."""
    tokenizer = os.path.join(base_directory(directory), "tokenizer.json")
    if data:
        with open(data, encoding="utf-8") as f:
            return encode(f.read(), tokenizer), data
    config = os.path.join(directory, "config.toml")
    dataset = read_toml_value(config, "dataset")
    fraction = float(read_toml_value(config, "val_fraction") or 0.1)
    with open(dataset, encoding="utf-8") as f:
        tokens = encode(f.read(), tokenizer)
    cut = min(len(tokens), max(0, int(len(tokens) * (1 - fraction))))
    return tokens[cut:], f"validation split of {dataset}"


def quiet_logs():
    import llama_cpp as L
    callback = L.llama_log_callback(lambda level, text, data: None)
    L.llama_log_set(callback, ctypes.c_void_p(0))
    return callback


def llama_loss(path, tokens, context, threads, prompt, generate):
    """(mean loss, standard error across windows, windows, seconds, generated text) from llama.cpp."""
    import llama_cpp
    llm = llama_cpp.Llama(model_path=path, n_ctx=context, n_batch=context, n_ubatch=context, logits_all=True,
                          n_threads=threads, n_threads_batch=threads, verbose=False)
    sample = tokens[:4096]
    # The tokenizer check: llama.cpp's ids for the same characters.
    detokenized = llm.detokenize([int(t) for t in sample]).decode("utf-8", errors="replace")
    retokenized = llm.tokenize(detokenized.encode("utf-8"), add_bos=False, special=False)
    if list(retokenized) != [int(t) for t in sample]:
        raise SystemExit(f"{path}: llama.cpp's tokenizer does not reproduce the character map")
    llm.reset()
    out = llm.create_completion(prompt, max_tokens=generate, temperature=0.0, top_k=1)
    text = out["choices"][0]["text"]
    T = context
    windows = (len(tokens) - 1) // T
    losses = np.empty(windows)
    start = time.perf_counter()
    for w in range(windows):
        llm.reset()
        llm.eval([int(t) for t in tokens[w * T: w * T + T]])
        logits = np.asarray(llm.scores[:T], dtype=np.float64)
        top = logits.max(axis=1, keepdims=True)
        log_norm = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
        targets = tokens[w * T + 1: w * T + T + 1]
        losses[w] = float(np.mean(log_norm - logits[np.arange(T), targets]))
    seconds = time.perf_counter() - start
    error = float(losses.std(ddof=1) / math.sqrt(windows)) if windows > 1 else 0.0
    return float(losses.mean()), error, windows, seconds, text


def whittle_loss(whittle, directory, data):
    command = [whittle, "eval", "--model", directory, "--json"] + (["--data", data] if data else [])
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}): {result.stderr.strip()}")
    report = json.loads(result.stdout)["result"]
    return report["loss"], report.get("windows")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("directories", nargs="+", help="variant or model directories holding model.gguf")
    parser.add_argument("--whittle", default=".build/release/whittle", help="the whittle binary ('' to skip Whittle)")
    parser.add_argument("--data", help="a text file scored whole instead of the validation split")
    parser.add_argument("--threads", type=int, default=1, help="llama.cpp threads (1 avoids its spinning barrier on a busy machine)")
    parser.add_argument("--prompt", default="ROMEO:\n")
    parser.add_argument("--generate", type=int, default=48, help="tokens generated greedily from --prompt")
    parser.add_argument("--json", action="store_true", help="one JSON object per directory instead of a table")
    args = parser.parse_args()
    keep = quiet_logs()
    rows = []
    header_printed = False
    for directory in args.directories:
        path = os.path.join(directory, "model.gguf")
        context = int(read_toml_value(os.path.join(directory, "config.toml"), "block_size"))
        tokens, source = evaluation_tokens(directory, args.data)
        loss, error, windows, seconds, text = llama_loss(path, tokens, context, args.threads, args.prompt, args.generate)
        whittle, whittle_windows = whittle_loss(args.whittle, directory, args.data) if args.whittle else (None, None)
        if whittle_windows is not None and whittle_windows != windows:
            raise SystemExit(f"{directory}: Whittle scored {whittle_windows} windows, this script {windows}")
        row = {"directory": directory, "bytes": os.path.getsize(path), "text": source, "windows": windows,
               "context": context, "llama_cpp_loss": loss, "llama_cpp_standard_error": error,
               "llama_cpp_seconds": seconds, "whittle_loss": whittle,
               "difference": None if whittle is None else loss - whittle, "generated": text}
        rows.append(row)
        if args.json:
            print(json.dumps(row), flush=True)
            continue
        print(f"# {directory}: {args.prompt!r} → {text!r}", file=sys.stderr, flush=True)
        if not header_printed:   # rows are printed as they are measured, so a long run shows progress
            print(f"text: {row['text']}, {row['windows']} windows of {row['context']}")
            print("| variant | bytes | llama.cpp loss | Whittle loss | llama.cpp − Whittle |")
            print("| --- | ---: | ---: | ---: | ---: |")
            header_printed = True
        whittle_text = "—" if whittle is None else f"{whittle:.6f}"
        difference = "—" if row["difference"] is None else f"{row['difference']:+.6f}"
        print(f"| {directory} | {row['bytes']:,} | {loss:.6f} ± {error:.4f} | {whittle_text} | {difference} |", flush=True)
    del keep


if __name__ == "__main__":
    main()
