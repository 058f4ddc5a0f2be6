#!/usr/bin/python3
"""A LLaMA-family sentencepiece `tokenizer.model` as a Hugging Face `tokenizer.json` (Python standard library only).

  /usr/bin/python3 native-models/exporter/sp_tokenizer.py CHECKPOINT/tokenizer.model OUT/tokenizer.json

Released LLaMA / Vicuna / LLaVA / GeoChat checkpoints carry the sentencepiece model (BPE, 32000 pieces, byte
fallback), often without a tokenizer.json; a Vantage pack needs the tokenizer.json (PACK_CONTRACT.md "Building the
input sequence", step 3). The sentencepiece ModelProto is read from its protobuf wire format here (pieces with score
and type, trainer_spec, normalizer_spec), and written as the tokenizer the LLaMA tokenizers of `transformers`
describe in "legacy" mode, the one LLaVA and GeoChat run:
- model: BPE over the pieces, `byte_fallback` (a character that is no piece becomes its UTF-8 bytes `<0xXX>`),
  `fuse_unk`; merges are every split (left, right) of a normal piece into two pieces, ranked by the merged piece's
  score, highest first (sentencepiece merges the adjacent pair whose concatenation scores highest);
- normaliser: prepend "▁" (sentencepiece's dummy prefix) and write each space as "▁" — applied to every stretch of
  text between special tokens, as the slow tokenizer runs sentencepiece on each stretch;
- decoder: "▁" → space, bytes fused back into characters, the leading space removed;
- `<unk>`, `<s>`, `</s>` (and any other control or user-defined piece) as special added tokens.
Only what LLaMA-style models use is accepted: a BPE model with the identity normaliser and without whitespace
collapsing; anything else is refused with the reason (its tokenizer.json has to come with the checkpoint).
Checked against sentencepiece itself and transformers' slow LlamaTokenizer on a prompt corpus
(fidelity/tok_compare.py; README.md "Model fidelity table").
"""
import json
import os
import struct
import sys

# sentencepiece_model.proto: SentencePiece.Type
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6
SPACE = "\u2581"


def _varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, i
        shift += 7


def _fields(buf):
    """(field number, wire type, value) of one protobuf message: ints for varints, bytes for length-delimited,
    raw 4/8 bytes for fixed32/fixed64."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 2:
            ln, i = _varint(buf, i)
            v, i = buf[i:i + ln], i + ln
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wt} (field {num}): not a sentencepiece model")
        if i > n:
            raise ValueError("truncated protobuf message: not a sentencepiece model")
        yield num, wt, v


def _int32(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_model(data):
    """ModelProto → {'pieces': [(piece, score, type)], 'trainer': {...}, 'normalizer': {...}} (proto defaults filled);
    ValueError when the bytes are not one."""
    try:
        return _parse_model(data)
    except (IndexError, UnicodeDecodeError, struct.error) as e:
        raise ValueError(f"not a sentencepiece model ({e})") from e


def _parse_model(data):
    pieces = []
    trainer = {"model_type": 1, "byte_fallback": False, "unk_id": 0, "bos_id": 1, "eos_id": 2, "pad_id": -1,
               "unk_piece": "<unk>", "bos_piece": "<s>", "eos_piece": "</s>", "pad_piece": "<pad>",
               "treat_whitespace_as_suffix": False}
    normalizer = {"name": "", "precompiled_charsmap": b"", "add_dummy_prefix": True, "remove_extra_whitespaces": True,
                  "escape_whitespaces": True}
    tr_fields = {3: "model_type", 35: "byte_fallback", 40: "unk_id", 41: "bos_id", 42: "eos_id", 43: "pad_id",
                 45: "unk_piece", 46: "bos_piece", 47: "eos_piece", 48: "pad_piece", 24: "treat_whitespace_as_suffix"}
    no_fields = {1: "name", 2: "precompiled_charsmap", 3: "add_dummy_prefix", 4: "remove_extra_whitespaces",
                 5: "escape_whitespaces"}
    for num, wt, v in _fields(data):
        if num == 1 and wt == 2:
            piece, score, typ = "", 0.0, NORMAL
            for pn, pwt, pv in _fields(v):
                if pn == 1:
                    piece = pv.decode("utf-8")
                elif pn == 2 and pwt == 5:
                    score = struct.unpack("<f", pv)[0]
                elif pn == 3:
                    typ = pv
            pieces.append((piece, score, typ))
        elif num == 2 and wt == 2:
            for fn, fwt, fv in _fields(v):
                name = tr_fields.get(fn)
                if name is None:
                    continue
                if isinstance(trainer[name], str):
                    trainer[name] = fv.decode("utf-8")
                elif isinstance(trainer[name], bool):
                    trainer[name] = bool(fv)
                else:
                    trainer[name] = _int32(fv)
        elif num == 3 and wt == 2:
            for fn, fwt, fv in _fields(v):
                name = no_fields.get(fn)
                if name == "name":
                    normalizer[name] = fv.decode("utf-8")
                elif name == "precompiled_charsmap":
                    normalizer[name] = bytes(fv)
                elif name:
                    normalizer[name] = bool(fv)
    if not pieces:
        raise ValueError("no pieces: not a sentencepiece model")
    return {"pieces": pieces, "trainer": trainer, "normalizer": normalizer}


def check_llama_style(m):
    """Raises ValueError naming the setting when the model is not one this converter reproduces exactly."""
    t, no = m["trainer"], m["normalizer"]
    problems = []
    if t["model_type"] != 2:
        problems.append(f"model_type {t['model_type']} (only BPE, 2, is converted)")
    if no["name"] not in ("identity", "") or no["precompiled_charsmap"]:
        problems.append(f"normaliser '{no['name']}' with a precompiled charsmap (only 'identity')")
    if no["remove_extra_whitespaces"]:
        problems.append("remove_extra_whitespaces is on (LLaMA keeps every space)")
    if not no["escape_whitespaces"]:
        problems.append("escape_whitespaces is off")
    if t["treat_whitespace_as_suffix"]:
        problems.append("treat_whitespace_as_suffix is on")
    if problems:
        raise ValueError("not a LLaMA-style sentencepiece model: " + "; ".join(problems) +
                         " — bring the checkpoint's own tokenizer.json instead")


def bpe_merges(pieces):
    """Every (left, right) whose concatenation is a normal piece and whose halves are pieces, ranked by the merged
    piece's score (highest first); ties (equal scores, and the splits of one piece) by the longer left, the longer
    right, the merged piece's id, then the ids of left and right — the order transformers' converters give."""
    ids = {p: i for i, (p, _, _) in enumerate(pieces)}
    ranked = []
    for i, (p, score, typ) in enumerate(pieces):
        if typ != NORMAL or len(p) < 2:
            continue
        for k in range(1, len(p)):
            left, right = p[:k], p[k:]
            if left in ids and right in ids:
                ranked.append((-score, -len(left), -len(right), i, ids[left], ids[right], left, right))
    ranked.sort()
    return [[left, right] for *_, left, right in ranked]


def tokenizer_json(m, add_dummy_prefix=None):
    """The tokenizer.json dict for a parsed LLaMA-style model. `add_dummy_prefix` overrides the model's setting
    (False only for tests that show the comparison catches a missing prefix)."""
    check_llama_style(m)
    pieces, t = m["pieces"], m["trainer"]
    prefix = m["normalizer"]["add_dummy_prefix"] if add_dummy_prefix is None else add_dummy_prefix
    vocab = {}
    for i, (p, _, _) in enumerate(pieces):
        vocab.setdefault(p, i)
    added = [{"id": i, "content": p, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": typ in (UNKNOWN, CONTROL)}
             for i, (p, _, typ) in enumerate(pieces) if typ in (UNKNOWN, CONTROL, USER_DEFINED)]
    normalizers = ([{"type": "Prepend", "prepend": SPACE}] if prefix else []) + \
        [{"type": "Replace", "pattern": {"String": " "}, "content": SPACE}]
    decoders = [{"type": "Replace", "pattern": {"String": SPACE}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}]
    if prefix:
        decoders.append({"type": "Strip", "content": " ", "start": 1, "stop": 0})
    bos = t["bos_piece"] if 0 <= t["bos_id"] < len(pieces) else None
    post = None
    if bos:
        post = {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                         {"SpecialToken": {"id": bos, "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                "special_tokens": {bos: {"id": bos, "ids": [t["bos_id"]], "tokens": [bos]}}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Sequence", "normalizers": normalizers},
        "pre_tokenizer": None,
        "post_processor": post,
        "decoder": {"type": "Sequence", "decoders": decoders},
        "model": {"type": "BPE", "dropout": None, "unk_token": t["unk_piece"], "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": bool(t["byte_fallback"]),
                  "ignore_merges": False, "vocab": vocab, "merges": bpe_merges(pieces)},
    }


def convert_file(model_path, out_path, **kw):
    with open(model_path, "rb") as f:
        tok = tokenizer_json(parse_model(f.read()), **kw)
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(tok, f, ensure_ascii=False)
    return tok


def checkpoint_tokenizer(checkpoint_dir):
    """The checkpoint's own tokenizer as a tokenizer.json dict: its tokenizer.json as it is, else its sentencepiece
    tokenizer.model converted; None when the folder has neither (fake checkpoints of the test configs)."""
    tj, tm = (os.path.join(checkpoint_dir, n) for n in ("tokenizer.json", "tokenizer.model"))
    if os.path.isfile(tj):
        with open(tj, encoding="utf-8") as f:
            return json.load(f)
    if os.path.isfile(tm):
        with open(tm, "rb") as f:
            try:
                return tokenizer_json(parse_model(f.read()))
            except ValueError as e:
                raise SystemExit(f"{tm}: {e}")
    return None


def with_pack_tokens(tok, tokens):
    """Adds each of `tokens` (the strings the pack manifest needs as single ids: `<image>`, source tags, …) that the
    tokenizer lacks as a special added token, with ids after its last one; returns the added [(token, id)]. The
    embed stage needs a row for each (the exporter pads its table with zero rows: these positions are replaced by
    image or region rows, or are markup the model was not trained on)."""
    have = {a["content"] for a in tok.get("added_tokens", [])} | set(tok["model"]["vocab"])
    next_id = 1 + max([*tok["model"]["vocab"].values(), *(a["id"] for a in tok.get("added_tokens", []))])
    added = []
    for t in tokens:
        if t in have:
            continue
        tok.setdefault("added_tokens", []).append({"id": next_id, "content": t, "single_word": False, "lstrip": False,
                                                   "rstrip": False, "normalized": False, "special": True})
        have.add(t)
        added.append((t, next_id))
        next_id += 1
    return added


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="sentencepiece tokenizer.model")
    ap.add_argument("out", help="tokenizer.json to write")
    ap.add_argument("--no-dummy-prefix", action="store_true",
                    help="leave out the '▁' prefix (wrong for LLaMA: only for the negative test)")
    a = ap.parse_args(argv)
    try:
        tok = convert_file(a.model, a.out, add_dummy_prefix=False if a.no_dummy_prefix else None)
    except ValueError as e:
        raise SystemExit(f"{a.model}: {e}")
    print(f"wrote {a.out}: {len(tok['model']['vocab'])} pieces, {len(tok['model']['merges'])} merges")


if __name__ == "__main__":
    main()
