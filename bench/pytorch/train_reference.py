#!/usr/bin/env python3
"""PyTorch reference timing for Whittle's GPT-2 training step.

This is a *reference measurement only*. It is not used by Whittle, its build,
or its tests, and PyTorch is not a dependency of the project. It exists so the
Swift trainer's per-iteration cost can be compared side by side with PyTorch
on the same machine, for the same model shape and the same training step.

Model semantics follow nanoGPT's GPT (written independently here):
  token + learned position embeddings, pre-LayerNorm transformer blocks,
  causal self-attention via F.scaled_dot_product_attention(is_causal=True),
  MLP 4x with exact GELU (nn.GELU()), final LayerNorm, LM head tied to the
  token embedding, optional biases (Linear and LayerNorm), optional dropout,
  GPT-2 init: N(0, 0.02) for Linear/Embedding weights, zero biases, and the
  two residual projections (attn.c_proj, mlp.c_proj) at 0.02/sqrt(2*n_layer).
Training step: AdamW (fused=False; weight decay 0.1 only on >=2-D params;
betas (0.9, 0.99)), gradient clipping at 1.0, linear lr warm-up then cosine
decay to min_lr. Data: char-level tinyshakespeare, vocab = sorted set of
characters, first 90% is the train split, random windows of block_size+1.

Timing: each iteration (zero_grad + forward + backward + clip + step) is timed
with time.perf_counter; the batch is sampled before the timer starts. The first
--warmup-iters iterations are discarded (timing warm-up, not the lr warm-up).

Example:
  python3 bench/pytorch/train_reference.py --threads 2 --n-layer 4 --n-head 4 \
      --n-embd 128 --block-size 64 --batch-size 12 --iters 60 --warmup-iters 10

Side by side with Whittle (same weights, same batches, step-by-step losses):
  --init-weights FILE    start from a Whittle model.safetensors (GPT-2 names, Conv1D layout)
  --whittle-batches      draw batch offsets with Whittle's data generator (xoshiro256** seeded
                         with seed + 1, Swift's Int.random(in:) bounded draw), so step N of both
                         trainers sees the same windows
  --loss-log FILE        write one JSON line per step: step, loss, grad_norm (before clipping), lr
"""

import argparse
import json
import math
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# ----------------------------------------------------------------------------
# Model

class LayerNorm(nn.Module):
    """LayerNorm whose bias can be switched off (eps 1e-5)."""

    def __init__(self, dim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim)) if bias else None

    def forward(self, x):
        return F.layer_norm(x, (self.weight.shape[0],), self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, dropout, bias):
        super().__init__()
        assert n_embd % n_head == 0, "n_embd must be divisible by n_head"
        self.n_head = n_head
        self.dropout = dropout
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)  # fused q, k, v
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.resid_drop = nn.Dropout(dropout)

    def forward(self, x):
        b, t, c = x.shape
        hd = c // self.n_head
        q, k, v = self.c_attn(x).split(c, dim=2)
        # (b, t, c) -> (b, heads, t, head_dim)
        q = q.view(b, t, self.n_head, hd).transpose(1, 2)
        k = k.view(b, t, self.n_head, hd).transpose(1, 2)
        v = v.view(b, t, self.n_head, hd).transpose(1, 2)
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=None,
            dropout_p=self.dropout if self.training else 0.0,
            is_causal=True,
        )
        y = y.transpose(1, 2).contiguous().view(b, t, c)
        return self.resid_drop(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, n_embd, dropout, bias):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()  # exact (erf) GELU, as nanoGPT
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        return self.drop(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    def __init__(self, n_embd, n_head, dropout, bias):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout, bias)
        self.ln_2 = LayerNorm(n_embd, bias)
        self.mlp = MLP(n_embd, dropout, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, n_layer, n_head, n_embd, dropout, bias):
        super().__init__()
        self.block_size = block_size
        self.wte = nn.Embedding(vocab_size, n_embd)
        self.wpe = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            [Block(n_embd, n_head, dropout, bias) for _ in range(n_layer)])
        self.ln_f = LayerNorm(n_embd, bias)
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # weight tying

        self.apply(self._init_module)
        resid_std = 0.02 / math.sqrt(2 * n_layer)
        for blk in self.blocks:
            nn.init.normal_(blk.attn.c_proj.weight, mean=0.0, std=resid_std)
            nn.init.normal_(blk.mlp.c_proj.weight, mean=0.0, std=resid_std)

    @staticmethod
    def _init_module(m):
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding=True):
        n = sum(p.numel() for p in self.parameters())  # tied weight counted once
        if non_embedding:
            n -= self.wpe.weight.numel()
        return n

    def forward(self, idx, targets):
        _, t = idx.shape
        assert t <= self.block_size
        pos = torch.arange(t, dtype=torch.long, device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for blk in self.blocks:
            x = blk(x)
        logits = self.lm_head(self.ln_f(x))
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))
        return loss


# ----------------------------------------------------------------------------
# Optimiser and schedule

def make_optimizer(model, lr, weight_decay, betas):
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr, betas=betas, fused=False)


def lr_at(it, lr, min_lr, warmup, decay_iters):
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / max(1, decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


# ----------------------------------------------------------------------------
# Data

def load_train_split(path):
    with open(path, "r", encoding="utf-8") as f:
        text = f.read()
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    ids = torch.tensor([index[ch] for ch in text], dtype=torch.long)
    n_train = int(0.9 * len(ids))
    return ids[:n_train], len(chars), ids[n_train:]


@torch.no_grad()
def whole_split_loss(model, data, block_size, batch_size=16):
    """Mean cross-entropy over every position of non-overlapping windows of block_size tokens
    (what `whittle eval` reports for the validation split)."""
    model.eval()
    windows = (len(data) - 1) // block_size
    total, count = 0.0, 0
    for first in range(0, windows, batch_size):
        idx = range(first, min(first + batch_size, windows))
        x = torch.stack([data[i * block_size:(i + 1) * block_size] for i in idx])
        y = torch.stack([data[i * block_size + 1:(i + 1) * block_size + 1] for i in idx])
        loss = model(x, y)
        total += loss.item() * len(idx) * block_size
        count += len(idx) * block_size
    model.train()
    return total / count


def sample_batch(data, block_size, batch_size, generator=None):
    if generator is None:
        starts = torch.randint(len(data) - block_size, (batch_size,))
    else:
        starts = [generator.below(len(data) - block_size) for _ in range(batch_size)]
    x = torch.stack([data[s:s + block_size] for s in starts])
    y = torch.stack([data[s + 1:s + 1 + block_size] for s in starts])
    return x, y


# ----------------------------------------------------------------------------
# Side by side with Whittle

_MASK64 = (1 << 64) - 1


class WhittleDataGenerator:
    """Whittle's RandomGenerator (xoshiro256** seeded through SplitMix64) and Swift's
    Int.random(in: 0..<bound, using:) (Lemire's nearly divisionless bounded draw)."""

    def __init__(self, seed):
        x, self.s = seed & _MASK64, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & _MASK64
            z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotate(x, k):
        return ((x << k) | (x >> (64 - k))) & _MASK64

    def next(self):
        s = self.s
        result = (self._rotate((s[1] * 5) & _MASK64, 7) * 9) & _MASK64
        t = (s[1] << 17) & _MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotate(s[3], 45)
        return result

    def below(self, bound):
        m = self.next() * bound
        if (m & _MASK64) < bound:
            threshold = ((1 << 64) - bound) % bound
            while (m & _MASK64) < threshold:
                m = self.next() * bound
        return m >> 64


def load_whittle_weights(model, path):
    """Copies a Whittle/Hugging Face GPT-2 safetensors file (float32, Conv1D weights [in, out])
    into the model."""
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(header_len))
        blob = f.read()
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32", f"{name}: {info['dtype']}"
        begin, end = info["data_offsets"]
        t = torch.frombuffer(bytearray(blob[begin:end]), dtype=torch.float32).reshape(info["shape"])
        tensors[name.removeprefix("transformer.")] = t
    own = {
        "wte.weight": model.wte.weight, "wpe.weight": model.wpe.weight,
        "ln_f.weight": model.ln_f.weight, "ln_f.bias": model.ln_f.bias,
    }
    for i, blk in enumerate(model.blocks):
        for part in ("ln_1", "ln_2", "attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"):
            module = blk
            for attr in part.split("."):
                module = getattr(module, attr)
            own[f"h.{i}.{part}.weight"] = module.weight
            own[f"h.{i}.{part}.bias"] = module.bias
    own = {k: v for k, v in own.items() if v is not None}
    missing = set(own) - set(tensors)
    extra = set(tensors) - set(own) - {"lm_head.weight"}
    assert not missing and not extra, f"missing {sorted(missing)}, unexpected {sorted(extra)}"
    with torch.no_grad():
        for name, param in own.items():
            t = tensors[name]
            if param.dim() == 2 and name.startswith("h."):
                t = t.t()  # Conv1D [in, out] -> nn.Linear [out, in]
            assert tuple(t.shape) == tuple(param.shape), f"{name}: {tuple(t.shape)} vs {tuple(param.shape)}"
            param.copy_(t)


# ----------------------------------------------------------------------------
# Main

def peak_rss_mib():
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return kb / 1024.0


def parse_args():
    here = os.path.dirname(os.path.abspath(__file__))
    default_data = os.path.normpath(
        os.path.join(here, "..", "..", "datasets", "tinyshakespeare.txt"))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default=default_data)
    p.add_argument("--n-layer", type=int, default=4)
    p.add_argument("--n-head", type=int, default=4)
    p.add_argument("--n-embd", type=int, default=128)
    p.add_argument("--block-size", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=12)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--bias", action="store_true", help="use biases in Linear and LayerNorm")
    p.add_argument("--iters", type=int, default=60, help="timed iterations")
    p.add_argument("--warmup-iters", type=int, default=10,
                   help="untimed iterations run first (timing warm-up, not lr warm-up)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--dtype", choices=["fp32", "bf16"], default="fp32",
                   help="bf16 = torch.autocast('cpu', dtype=torch.bfloat16)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--min-lr", type=float, default=1e-4)
    p.add_argument("--lr-warmup-iters", type=int, default=100)
    p.add_argument("--lr-decay-iters", type=int, default=5000)
    p.add_argument("--weight-decay", type=float, default=0.1)
    p.add_argument("--grad-clip", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=1337)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--eval-whole-split", action="store_true",
                   help="after training, report the loss over the whole validation split")
    p.add_argument("--init-weights", default=None,
                   help="start from a Whittle model.safetensors instead of a fresh initialisation")
    p.add_argument("--whittle-batches", action="store_true",
                   help="draw batches with Whittle's data generator (seed + 1), as `whittle train` does")
    p.add_argument("--loss-log", default=None,
                   help="write step, loss, grad_norm (before clipping) and lr as JSON lines")
    return p.parse_args()


def main():
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    train, vocab_size, validation = load_train_split(args.data)
    model = GPT(vocab_size, args.block_size, args.n_layer, args.n_head,
                args.n_embd, args.dropout, args.bias)
    if args.init_weights:
        load_whittle_weights(model, args.init_weights)
    model.train()
    batch_generator = WhittleDataGenerator(args.seed + 1) if args.whittle_batches else None
    loss_log = open(args.loss_log, "w") if args.loss_log else None
    opt = make_optimizer(model, args.lr, args.weight_decay, (0.9, 0.99))

    if args.dtype == "bf16":
        autocast = lambda: torch.autocast("cpu", dtype=torch.bfloat16)
    else:
        import contextlib
        autocast = contextlib.nullcontext

    times_ms = []
    losses = []
    total = args.warmup_iters + args.iters
    for it in range(total):
        for g in opt.param_groups:
            g["lr"] = lr_at(it, args.lr, args.min_lr, args.lr_warmup_iters, args.lr_decay_iters)
        x, y = sample_batch(train, args.block_size, args.batch_size, batch_generator)

        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with autocast():
            loss = model(x, y)
        loss.backward()
        grad_norm = None
        if args.grad_clip > 0:
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.grad_clip)
        opt.step()
        t1 = time.perf_counter()

        losses.append(loss.item())
        if loss_log:
            norm = grad_norm.item() if grad_norm is not None else None
            loss_log.write(json.dumps({"step": it + 1, "loss": losses[-1], "grad_norm": norm,
                                       "lr": opt.param_groups[0]["lr"]}) + "\n")
        if it >= args.warmup_iters:
            times_ms.append((t1 - t0) * 1000.0)
    if loss_log:
        loss_log.close()

    tokens_per_iter = args.batch_size * args.block_size
    median = statistics.median(times_ms)
    mean = statistics.fmean(times_ms)
    result = {
        "torch_version": torch.__version__,
        "num_threads": torch.get_num_threads(),
        "dtype": args.dtype,
        "n_layer": args.n_layer, "n_head": args.n_head, "n_embd": args.n_embd,
        "block_size": args.block_size, "batch_size": args.batch_size,
        "dropout": args.dropout, "bias": args.bias, "vocab_size": vocab_size,
        "params_non_embedding": model.num_params(non_embedding=True),
        "params_total": model.num_params(non_embedding=False),
        "warmup_iters": args.warmup_iters, "timed_iters": args.iters,
        "median_ms": median, "mean_ms": mean, "min_ms": min(times_ms),
        "max_ms": max(times_ms),
        "tokens_per_iter": tokens_per_iter,
        "tokens_per_s_median": tokens_per_iter / (median / 1000.0),
        "tokens_per_s_mean": tokens_per_iter / (mean / 1000.0),
        "first_loss": losses[0], "last_loss": losses[-1],
        "peak_rss_mib": peak_rss_mib(),
    }
    if args.eval_whole_split:
        result["val_loss_whole_split"] = whole_split_loss(model, validation, args.block_size)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"torch {result['torch_version']}  threads {result['num_threads']}  dtype {args.dtype}")
        print(f"model: L={args.n_layer} H={args.n_head} C={args.n_embd} T={args.block_size} "
              f"B={args.batch_size} dropout={args.dropout} bias={args.bias} vocab={vocab_size} "
              f"params={result['params_non_embedding'] / 1e6:.2f}M (non-embedding)")
        print(f"iters: {args.warmup_iters} warm-up discarded, {args.iters} timed")
        print(f"ms/iter: median {median:.2f}  mean {mean:.2f}  min {min(times_ms):.2f}  "
              f"max {max(times_ms):.2f}")
        print(f"tokens/s: {result['tokens_per_s_median']:.0f} (median)  "
              f"{result['tokens_per_s_mean']:.0f} (mean)")
        print(f"loss: first {losses[0]:.4f}  last {losses[-1]:.4f}")
        print(f"peak RSS: {result['peak_rss_mib']:.1f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
