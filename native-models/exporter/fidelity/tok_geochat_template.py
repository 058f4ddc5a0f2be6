#!/usr/bin/env python3
"""Expected prompts for the GeoChat chat-template check (README.md "Model fidelity table"): GeoChat's own
`geochat/conversation.py` (conv_templates["llava_v1"], the template its demo and its eval scripts use) renders each
turn, built the way its eval scripts build them (`DEFAULT_IMAGE_TOKEN + '\\n' + qs` for the first user message,
`append_message(roles[1], None)` for the answer to come), and GeoChat's `mm_utils.tokenizer_image_token` turns the
prompt into ids with transformers' slow LlamaTokenizer (legacy, as GeoChat loads it) over tok_fixtures/tiny_sp.model;
IMAGE_TOKEN_INDEX (−200) stands where the image embeddings go.

  # GeoChat brought with the fetch tool as a bare git mirror; its geochat/ folder extracted with git archive:
  git -C GEOCHAT_GIT archive HEAD geochat | tar -x -C /tmp/geochat
  /tmp/venv-tok/bin/python tok_geochat_template.py --geochat /tmp/geochat --commit $(git -C GEOCHAT_GIT rev-parse HEAD) \\
      --extra-site /tmp/venv/lib/python3.11/site-packages      # torch + PIL, which geochat.mm_utils imports

(venv-tok: see tok_upstream.py.) Writes tok_fixtures/geochat_template.json. geochat/__init__.py imports the whole
model (GeoChatLlamaForCausalLM), which is not needed to render a prompt: the package is registered without running
it and conversation.py / mm_utils.py are imported from GeoChat's own files.
"""
import argparse
import json
import os
import sys
import types

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "tok_fixtures")
sys.path.insert(0, HERE)

# The turns: (name, [(role, message)] as GeoChat's eval scripts write them; the last user message is the question).
BOX = "{<25><10><75><50>}"  # PACK_CONTRACT.md "Region format": box (150,20)-(50,100) on a 200x200 view
CASES = [
    ("chat", [("user", "How many aircraft are parked on the apron?")]),
    ("refer", [("user", "[refer] Give me the location of <p> white truck </p>")]),
    ("identify", [("user", "[identify] What is the object present at " + BOX)]),
    ("grounding", [("user", "[grounding] Describe the image in detail.")]),
    ("multi-turn", [("user", "How many ships are in the harbour?"), ("assistant", "There are 3 ships."),
                    ("user", "Which one is the largest?")]),
    ("multi-turn-refer", [("user", "How many ships are in the harbour?"), ("assistant", "There are 3 ships."),
                          ("user", "[refer] Give me the location of <p> the largest ship </p>")]),
]


def import_geochat(root):
    pkg = types.ModuleType("geochat")
    pkg.__path__ = [os.path.join(root, "geochat")]
    sys.modules["geochat"] = pkg
    import geochat.conversation as conversation
    import geochat.mm_utils as mm_utils
    from geochat.constants import DEFAULT_IMAGE_TOKEN, IMAGE_TOKEN_INDEX

    return conversation, mm_utils, DEFAULT_IMAGE_TOKEN, IMAGE_TOKEN_INDEX


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--geochat", required=True, help="folder holding GeoChat's geochat/ package")
    ap.add_argument("--commit", required=True, help="the GeoChat commit it was extracted from")
    ap.add_argument("--extra-site", help="site-packages appended to sys.path (torch, PIL)")
    ap.add_argument("--model", default=os.path.join(FIX, "tiny_sp.model"),
                    help="sentencepiece model for the ids (default: the committed tiny one; the LLaMA-2 one locally)")
    ap.add_argument("--out", default=os.path.join(FIX, "geochat_template.json"))
    a = ap.parse_args()
    if a.extra_site:
        sys.path.append(a.extra_site)
    from tok_upstream import transformers_slow

    tv, slow = transformers_slow(a.model)
    conversation, mm_utils, image_token, image_index = import_geochat(a.geochat)
    out = {"geochat_commit": a.commit, "conv_template": "llava_v1", "transformers": tv,
           "tokenizer": os.path.relpath(a.model, HERE), "image_token_index": image_index,
           "system": conversation.conv_templates["llava_v1"].system, "cases": []}
    for name, turns in CASES:
        conv = conversation.conv_templates["llava_v1"].copy()
        for i, (role, msg) in enumerate(turns):
            if i == 0:
                msg = image_token + "\n" + msg
            conv.append_message(conv.roles[0 if role == "user" else 1], msg)
        conv.append_message(conv.roles[1], None)
        prompt = conv.get_prompt()
        ids = mm_utils.tokenizer_image_token(prompt, slow, image_index)
        out["cases"].append({"name": name, "turns": [list(t) for t in turns], "prompt": prompt, "ids": ids})
        print(f"{name}: {prompt!r}")
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(out['cases'])} cases (GeoChat {a.commit[:8]}, transformers {tv})")


if __name__ == "__main__":
    main()
