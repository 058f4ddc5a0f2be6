#!/usr/bin/env python3
"""Expected side (a) of the decoder fidelity check: transformers' own LlamaForCausalLM on a checkpoint from
make_checkpoint.py. Imports only upstream packages (torch, transformers, numpy) — none of our modules.

  /tmp/venv/bin/python expected_transformers.py CHECKPOINT_DIR OUT_PREFIX [--steps 64] [--prompt 16]

Fixed input: BOS (1) then prompt-1 ids drawn by numpy (seed 2024) from the ordinary vocabulary (259.. = past
<unk> <s> </s> and the 256 byte tokens). Greedy decoding (argmax, no EOS stop) for --steps tokens with the KV cache,
then one forward pass over the whole sequence (prompt + generated) for the logits at every position.
Writes OUT_PREFIX.json (ids, versions, checkpoint sha256) and OUT_PREFIX.f32 (little-endian float32 logits,
[positions, vocab], row r = next-token logits after ids[0..r]).
"""
import argparse
import hashlib
import json
import os

import numpy as np
import torch
import transformers
from transformers import LlamaForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=64)
    ap.add_argument("--prompt", type=int, default=16)
    a = ap.parse_args()
    torch.set_num_threads(2)
    with open(os.path.join(a.checkpoint, "model.safetensors"), "rb") as f:
        sha = hashlib.file_digest(f, "sha256").hexdigest()
    model = LlamaForCausalLM.from_pretrained(a.checkpoint, torch_dtype=torch.float32, attn_implementation="eager").eval()
    V = model.config.vocab_size
    ids = [1] + np.random.default_rng(2024).integers(259, V, a.prompt - 1).tolist()
    with torch.no_grad():
        out = model(torch.tensor([ids]), use_cache=True)
        past, logits = out.past_key_values, out.logits[0, -1]
        gen = []
        for _ in range(a.steps):
            t = int(torch.argmax(logits))
            gen.append(t)
            out = model(torch.tensor([[t]]), past_key_values=past, use_cache=True)
            past, logits = out.past_key_values, out.logits[0, -1]
        seq = ids + gen
        full = model(torch.tensor([seq])).logits[0].numpy().astype("<f4")
    # the cached greedy loop and the full pass agree on every greedy choice
    assert [int(x) for x in full[a.prompt - 1:-1].argmax(-1)] == gen, "cached and uncached greedy differ"
    full.tofile(a.out + ".f32")
    meta = {"inputIds": ids, "greedyIds": gen, "distinctGreedy": len(set(gen)), "positions": len(seq), "vocab": V,
            "checkpointSha256": sha, "transformers": transformers.__version__, "torch": torch.__version__,
            "implementation": "transformers LlamaForCausalLM, float32, attn_implementation=eager",
            "logitsFile": os.path.basename(a.out) + ".f32"}
    with open(a.out + ".json", "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps({k: meta[k] for k in ("distinctGreedy", "positions", "transformers", "torch")}), gen[:16])


if __name__ == "__main__":
    main()
