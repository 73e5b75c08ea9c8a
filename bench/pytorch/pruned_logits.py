"""Logits of a Whittle model directory as Hugging Face transformers computes them, for checking
that structured-pruned and exported directories load and compute what Whittle computes.

    python3 bench/pytorch/pruned_logits.py DIR OUT.json [--tokens 0,5,3,...]

Loads DIR with GPT2LMHeadModel.from_pretrained (transformers 4.x applies config.json's
pruned_heads; 5.x needs the dense export), runs the token ids (default: 64 ids (7i + 3) mod the
vocabulary size) and writes
{"transformers": version, "tokens": [...], "logits": [[...], ...]} (fp32). Never a dependency of
Whittle: it only produces a fixture the Swift tests compare against."""
import json
import sys

import torch
import transformers
from transformers import GPT2LMHeadModel


def main():
    directory, out = sys.argv[1], sys.argv[2]
    model = GPT2LMHeadModel.from_pretrained(directory, torch_dtype=torch.float32).eval()
    vocab = model.config.vocab_size
    tokens = [int(t) for t in sys.argv[4].split(",")] if len(sys.argv) > 4 else [(7 * i + 3) % vocab for i in range(64)]
    with torch.no_grad():
        logits = model(torch.tensor([tokens])).logits[0]
    with open(out, "w") as f:
        json.dump({"transformers": transformers.__version__, "directory": directory, "tokens": tokens,
                   "logits": [[float(v) for v in row] for row in logits]}, f)


if __name__ == "__main__":
    main()
