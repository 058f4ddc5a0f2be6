#!/usr/bin/env python3
"""Expected side (b), step 1: an F32 GGUF made by llama.cpp's own converter from a make_checkpoint.py folder.

  /tmp/venv/bin/python make_gguf.py --llama-src DIR CHECKPOINT_DIR OUT.gguf

--llama-src: the llama.cpp source bundled in node-llama-cpp (native-models/llamacpp/ensure.mjs llamaCppSource()),
so the converter and gguf-py are exactly the release the binding runs. Adds the two files the converter's
LLaMA vocabulary path needs beside the weights — a SentencePiece `tokenizer.model` with the checkpoint's vocabulary
size (<unk> <s> </s>, the 256 `<0xNN>` byte tokens llama.cpp's SPM vocabulary requires, then filler pieces) and a
tokenizer_config.json — then runs `convert_hf_to_gguf.py CHECKPOINT_DIR --outtype f32` with the bundled gguf-py on
PYTHONPATH. The converter permutes q/k from HF's rotate-half layout into GGML's interleaved one itself: that is
what makes llama.cpp an independent check of our exporter's RoPE layout.
"""
import argparse
import json
import os
import subprocess
import sys


def spm_tokenizer(path, vocab):
    from sentencepiece import sentencepiece_model_pb2 as spm

    m = spm.ModelProto()
    P = spm.ModelProto.SentencePiece
    m.pieces.add(piece="<unk>", score=0.0, type=P.UNKNOWN)
    m.pieces.add(piece="<s>", score=0.0, type=P.CONTROL)
    m.pieces.add(piece="</s>", score=0.0, type=P.CONTROL)
    for b in range(256):
        m.pieces.add(piece=f"<0x{b:02X}>", score=0.0, type=P.BYTE)
    for i in range(vocab - len(m.pieces)):
        m.pieces.add(piece=f"\u2581w{i}", score=-float(i), type=P.NORMAL)
    ts = m.trainer_spec
    ts.model_type = spm.TrainerSpec.BPE
    ts.vocab_size = vocab
    ts.byte_fallback = True
    ts.unk_id, ts.bos_id, ts.eos_id, ts.pad_id = 0, 1, 2, -1
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    with open(path, "wb") as f:
        f.write(m.SerializeToString())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-src", required=True)
    ap.add_argument("checkpoint")
    ap.add_argument("out")
    a = ap.parse_args()
    with open(os.path.join(a.checkpoint, "config.json")) as f:
        vocab = json.load(f)["vocab_size"]
    spm_tokenizer(os.path.join(a.checkpoint, "tokenizer.model"), vocab)
    with open(os.path.join(a.checkpoint, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                   "add_bos_token": True, "add_eos_token": False}, f)
    env = {**os.environ, "PYTHONPATH": os.path.join(a.llama_src, "gguf-py")}
    r = subprocess.run([sys.executable, os.path.join(a.llama_src, "convert_hf_to_gguf.py"), a.checkpoint,
                        "--outtype", "f32", "--outfile", a.out], env=env)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
