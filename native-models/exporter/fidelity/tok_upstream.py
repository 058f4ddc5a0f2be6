#!/usr/bin/env python3
"""Expected token ids for the LLaMA tokenizer check (README.md "Model fidelity table"), from the upstream
implementations — never from our converter:
- `sentencepiece` (pip) on each stretch of text between the model's control pieces (`<s>`, `</s>`, `<unk>`: a
  special token in the prompt is its id, as in the slow tokenizer); no BOS/EOS added;
- transformers' slow `LlamaTokenizer` (sentencepiece-backed, `legacy=True` as LLaVA / GeoChat load it: transformers
  4.x — GeoChat pins 4.31; run here with 4.57.6), `encode(text, add_special_tokens=False)`.

  # once, with pip packages (not on CI):
  python3 -m venv /tmp/venv-tok && /tmp/venv-tok/bin/pip install --no-deps transformers==4.57.6 tokenizers==0.22.2 \
      huggingface_hub && /tmp/venv-tok/bin/pip install sentencepiece protobuf numpy regex pyyaml packaging filelock \
      requests safetensors tqdm
  /tmp/venv-tok/bin/python tok_upstream.py train              # tok_fixtures/tiny_sp.model (the CI model)
  /tmp/venv-tok/bin/python tok_upstream.py expected MODEL OUT  # OUT = {"sentencepiece": [[ids]...], ...}

`train` trains a small BPE model with LLaMA's settings (byte fallback, identity normaliser, spaces kept, digits
split, whitespace-only pieces) on tok_fixtures/corpus.json, then writes tok_fixtures/tiny_expected.json; the LLaMA-2
tokenizer.model itself is not committed (licence): run `expected` on it locally.
"""
import hashlib
import importlib.metadata as md
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "tok_fixtures")


def corpus():
    with open(os.path.join(FIX, "corpus.json"), encoding="utf-8") as f:
        return json.load(f)


def sp_ids(sp, text):
    """sentencepiece on the stretches between control pieces; each control piece is its own id."""
    controls = sorted((sp.id_to_piece(i) for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)),
                      key=len, reverse=True)
    out, i, start = [], 0, 0
    while i < len(text):
        hit = next((c for c in controls if text.startswith(c, i)), None)
        if hit is None:
            i += 1
            continue
        if i > start:
            out += sp.encode(text[start:i])
        out.append(sp.piece_to_id(hit))
        i += len(hit)
        start = i
    if start < len(text):
        out += sp.encode(text[start:])
    return out


def transformers_slow(model):
    _v = md.version  # transformers 4.x asks for huggingface_hub < 1.0; only its hub code needs that
    md.version = lambda p: "0.36.0" if p.replace("_", "-") == "huggingface-hub" else _v(p)
    import transformers
    from transformers import LlamaTokenizer

    md.version = _v
    return transformers.__version__, LlamaTokenizer(model, legacy=True)


def expected(model, lines):
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model)
    tv, slow = transformers_slow(model)
    a = [sp_ids(sp, s) for s in lines]
    b = [slow.encode(s, add_special_tokens=False) for s in lines]
    with open(model, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    same = sum(x == y for x, y in zip(a, b))
    return {"model_sha256": sha, "sentencepiece": spm.__version__, "transformers": tv, "lines": len(lines),
            "sentencepiece_equals_transformers": same,
            "differ": [i for i, (x, y) in enumerate(zip(a, b)) if x != y],
            "ids": a, "ids_transformers": b}


def train():
    import sentencepiece as spm

    lines = corpus()
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter([s for s in lines if s.strip()]), model_writer=model, model_type="bpe", vocab_size=1200,
        byte_fallback=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
        add_dummy_prefix=True, split_digits=True, allow_whitespace_only_pieces=True, character_coverage=0.9995,
        hard_vocab_limit=False, max_sentence_length=8192, num_threads=1, minloglevel=2,
        unk_id=0, bos_id=1, eos_id=2, pad_id=-1)
    path = os.path.join(FIX, "tiny_sp.model")
    with open(path, "wb") as f:
        f.write(model.getvalue())
    print(f"wrote {path} ({len(model.getvalue())} bytes)")
    return path


def write(obj, out):
    with open(out, "w", encoding="utf-8") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out}: {obj['lines']} lines, sentencepiece == transformers on {obj['sentencepiece_equals_transformers']}"
          f" (differ: {obj['differ'][:20]})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["train"]:
        path = train()
        write(expected(path, corpus()), os.path.join(FIX, "tiny_expected.json"))
    elif sys.argv[1:2] == ["expected"] and len(sys.argv) == 4:
        write(expected(sys.argv[2], corpus()), sys.argv[3])
    else:
        raise SystemExit(__doc__)
