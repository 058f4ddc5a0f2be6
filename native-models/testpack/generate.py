"""Builds the tiny Vantage test pack: trains the reference model on synthetic scenes, exports the six ONNX stages,
writes tokenizer.json, manifest.json and reference.json.

Run: /usr/bin/python3 native-models/testpack/generate.py   (deterministic; ~2-3 minutes on one CPU thread)
Env: VANTAGE_TESTPACK_STEPS=<n> overrides the number of training steps (0 = untrained weights, for quick checks);
     VANTAGE_TESTPACK_OUT=<dir> writes <dir>/pack, <dir>/reference.json and <dir>/reference_pipeline.json instead of
     the committed ones;
     VANTAGE_TESTPACK_STATE=<file.pt> (development only) saves the trained weights there, or loads them instead of
     training when the file exists, so that the goldens can be iterated on without the 2-3 minutes of training.
"""
import hashlib
import json
import math
import os
import re
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from model import CONFIG, Decoder, TinyModel  # noqa: E402
import pipeline_reference  # noqa: E402

OUT_DIR = os.environ.get("VANTAGE_TESTPACK_OUT", HERE)  # for experiments that must not touch the committed pack
PACK_DIR = os.path.join(OUT_DIR, "pack")
REFERENCE = os.path.join(OUT_DIR, "reference.json")
LR = float(os.environ.get("VANTAGE_TESTPACK_LR", "4e-3"))
SEED = 20261123
STEPS = int(os.environ.get("VANTAGE_TESTPACK_STEPS", "350"))

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
torch.manual_seed(SEED)

S = CONFIG["view_size"]
VIEW_MEAN = [0.48145466, 0.4578275, 0.40821073]
VIEW_STD = [0.26862954, 0.26130258, 0.27577711]
G_MEAN = [0.485, 0.456, 0.406]
G_STD = [0.229, 0.224, 0.225]
POINT_RADIUS = S / 16.0  # a point region is rasterised as a disc of this radius, in view pixels

# ------------------------------------------------------------------------------------------------------ vocabulary
SPECIALS = ["<pad>", "<s>", "</s>", "<unk>", "<image>"] + [f"<region{k}>" for k in range(1, 9)] + [
    "<SEG>", "<p>", "</p>", "<optical>", "<sar>", "<infrared>"]
PUNCT = list(".,?!:;'\"()-/%&+=*#@[]")
NUMBERS = [str(i) for i in range(0, 21)] + ["25", "30", "40", "50", "60", "70", "80", "90", "100", "1000"]
WORDS = """
a an the this that these those it its is are was were be been being has have had do does did can could will would
should may might must shall of in on at to from by with without for about above below under over near next between
among around across along through into onto inside outside behind beside left right top bottom middle centre center
upper lower north south east west northern southern eastern western and or but not no yes there here what which who
where when why how many much some any all each every one two three four five six seven eight nine ten several few
more most less least than very also only just same other another first second third last new old large small big
little long short wide narrow tall high low bright dark light heavy clear cloudy visible hidden round square
rectangular circular linear straight curved flat dense sparse open empty full i you we they he she me us them my
your our their please show shows shown find found segment segmentation mask outline mark highlight locate detect
count describe description tell see look looks looking give identify classify compare change changed changes
region regions area areas object objects image images picture scene view photo pixel pixels patch part parts
red green blue white black yellow orange grey gray brown purple pink sandy colour color colours colors
building buildings house houses roof roofs tank tanks storage road roads street streets highway bridge bridges
river rivers lake lakes water sea ocean coast coastline beach shore harbour harbor port ship ships boat boats
vessel field fields farm farmland crop crops forest forests tree trees wood grass grassland meadow park desert
sand dune dunes mountain mountains hill hills valley rock soil ground land urban rural city town village
airport runway aircraft airplane plane planes vehicle vehicles car cars truck parking lot lots stadium tower
factory industrial residential commercial railway rail train station pool court playground cloud clouds shadow
snow ice wetland marsh swamp canal dam pier dock container containers solar panel panels greenhouse
optical sar infrared thermal radar multispectral satellite aerial sensor band bands resolution metre metres meter
meters kilometre kilometres km square hectare hectares size shape distance length width height direction
located location position analyst assistant system user answer question chat remote sensing earth observation
sure ok okay sorry unknown nothing something thing things type kind class category background foreground
flood flooded burned burnt damage damaged construction cleared vegetation vegetated bare surface texture
appears appear seems contains contain covers cover covered includes include surrounded lies lie runs run
""".split()


def build_vocab():
    vocab = []
    for t in SPECIALS + PUNCT + NUMBERS + WORDS:
        if t not in vocab:
            vocab.append(t)
    assert len(vocab) <= CONFIG["vocab"], len(vocab)
    n_real = len(vocab)
    vocab += [f"<extra_{i}>" for i in range(CONFIG["vocab"] - len(vocab))]
    return vocab, n_real


VOCAB, N_REAL = build_vocab()
TOK2ID = {t: i for i, t in enumerate(VOCAB)}
ID = {t: TOK2ID[t] for t in SPECIALS}
WORD_RE = re.compile(r"\w+|[^\w\s]+", re.ASCII)


def tokenizer_json():
    """HF tokenizers JSON. WordPiece with no '##' entries behaves as a word-level model (an unknown word maps to
    <unk> as a whole) and, unlike "WordLevel", needs no tokenizer_config.json to load in tokenizers.js."""
    added = [{"id": ID[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for t in SPECIALS]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "<unk>", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": TOK2ID},
    }


def tokenize(text):
    """Same ids as tokenizer.json: special tokens split out first (longest match), the rest lower-cased, split by
    \\w+|[^\\w\\s]+ and looked up word by word."""
    ids = []
    specials = sorted(SPECIALS, key=len, reverse=True)
    i, start = 0, 0
    pieces = []
    while i < len(text):
        m = next((s for s in specials if text.startswith(s, i)), None)
        if m:
            pieces.append(("text", text[start:i]))
            pieces.append(("special", m))
            i += len(m)
            start = i
        else:
            i += 1
    pieces.append(("text", text[start:]))
    for kind, s in pieces:
        if kind == "special":
            ids.append(ID[s])
            continue
        for w in WORD_RE.findall(s.lower()):
            ids.append(TOK2ID.get(w, ID["<unk>"]))
    return ids


def decode(ids):
    """tokenizers.js decode() with its defaults (no decoder: tokens joined by spaces, then clean_up_tokenization)."""
    text = " ".join(VOCAB[i] for i in ids)
    for a, b in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"), (" 'm", "'m"),
                 (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]:
        text = text.replace(a, b)
    return text


CHAT = {
    "system": "<s>system: {content} </s>",
    "user": "<s>user: {content} </s>",
    "assistant": "<s>assistant: {content} </s>",
    "assistantPrefix": "<s>assistant:",
    "defaultSystem": "you are a remote sensing assistant .",
    "groundPrefix": "Sure, it is <SEG> .",
}


def render_prompt(question, source="optical", forced=""):
    user = f"<{source}> <image> {question}"
    text = CHAT["system"].format(content=CHAT["defaultSystem"]) + CHAT["user"].format(content=user) + \
        CHAT["assistantPrefix"]
    return text + (" " + forced if forced else "")


# ------------------------------------------------------------------------------------------------ rasterisation
def centres():
    j, i = np.meshgrid(np.arange(S, dtype=np.float64), np.arange(S, dtype=np.float64), indexing="ij")
    return i + 0.5, j + 0.5  # x (column) and y (row) of every pixel centre, arrays [row, col]


CX, CY = centres()


def rasterise(region):
    k = region["kind"]
    if k == "box":
        x0, x1 = sorted([region["x0"], region["x1"]])
        y0, y1 = sorted([region["y0"], region["y1"]])
        m = (CX >= x0) & (CX <= x1) & (CY >= y0) & (CY <= y1)
    elif k == "point":
        m = (CX - region["x"]) ** 2 + (CY - region["y"]) ** 2 <= POINT_RADIUS ** 2
    elif k == "circle":
        m = (CX - region["cx"]) ** 2 + (CY - region["cy"]) ** 2 <= region["r"] ** 2
    elif k == "polygon":
        pts = region["points"]
        m = np.zeros((S, S), dtype=bool)
        n = len(pts)
        for a in range(n):
            xi, yi = pts[a]
            xj, yj = pts[a - 1]
            if yi == yj:
                continue
            cross = ((yi > CY) != (yj > CY)) & (CX < (xj - xi) * (CY - yi) / (yj - yi) + xi)
            m ^= cross
    else:
        raise ValueError(k)
    return m.astype(np.float32)


# -------------------------------------------------------------------------------------------------- scenes
BACKGROUNDS = {  # phrase -> base RGB
    "green field": (70, 140, 60),
    "blue lake": (40, 80, 160),
    "sandy desert": (200, 175, 120),
    "grey urban area": (120, 120, 125),
}
COLOURS = {"red": (210, 40, 35), "white": (240, 240, 240), "yellow": (235, 210, 40), "black": (20, 20, 25),
           "orange": (240, 130, 30)}
CLASSES = ["building", "storage tank", "road"]


def texture(rng, h=S, w=S):
    """Periodic formula texture like the reference images use, plus a little noise."""
    y, x = np.mgrid[0:h, 0:w]
    out = np.zeros((h, w, 3), dtype=np.float64)
    for c in range(3):
        a, b, m = rng.randint(1, 13), rng.randint(1, 13), rng.randint(7, 31)
        amp = rng.uniform(0, 30)
        out[..., c] = ((a * x + b * y) % m) / m * amp
    return out + rng.normal(0, rng.uniform(0, 6), size=(h, w, 3))


def draw_object(rng, cls, occupied):
    m = np.zeros((S, S), dtype=bool)
    for _ in range(20):
        if cls == "building":
            w, h = rng.randint(10, 25), rng.randint(10, 25)
            x0, y0 = rng.randint(0, S - w), rng.randint(0, S - h)
            m[:] = False
            m[y0:y0 + h, x0:x0 + w] = True
        elif cls == "storage tank":
            r = rng.uniform(5, 11)
            cx, cy = rng.uniform(r, S - r), rng.uniform(r, S - r)
            m = (CX - cx) ** 2 + (CY - cy) ** 2 <= r * r
        else:
            w = rng.randint(4, 8)
            p = rng.randint(4, S - 4 - w)
            m = np.zeros((S, S), dtype=bool)
            if rng.rand() < 0.5:
                m[p:p + w, :] = True
            else:
                m[:, p:p + w] = True
        if (m & occupied).sum() == 0:
            return m
    return None


def make_scene(rng):
    bg = list(BACKGROUNDS)[rng.randint(len(BACKGROUNDS))]
    img = np.array(BACKGROUNDS[bg], dtype=np.float64) + rng.uniform(-15, 15, 3) + texture(rng)
    objects = []
    occupied = np.zeros((S, S), dtype=bool)
    for _ in range(1 + (rng.rand() < 0.5)):
        cls = CLASSES[rng.choice(3, p=[0.45, 0.35, 0.2])]
        colour = list(COLOURS)[rng.randint(len(COLOURS))]
        if any(o["phrase"] == f"{colour} {cls}" for o in objects):
            continue
        m = draw_object(rng, cls, occupied)
        if m is None:
            continue
        occupied |= m
        col = np.array(COLOURS[colour], dtype=np.float64) + rng.uniform(-15, 15, 3)
        img[m] = col + rng.normal(0, 3, size=(int(m.sum()), 3))
        objects.append({"cls": cls, "colour": colour, "phrase": f"{colour} {cls}", "mask": m})
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    return {"image": img, "bg": bg, "bg_mask": ~occupied, "objects": objects}


def region_for(rng, mask):
    ys, xs = np.nonzero(mask)
    x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
    kind = rng.choice(["box", "box", "point", "polygon", "circle"])
    j = lambda: rng.uniform(-2, 2)  # noqa: E731
    if kind == "box":
        return {"kind": "box", "x0": x0 + j(), "y0": y0 + j(), "x1": x1 + j(), "y1": y1 + j()}
    if kind == "point":
        k = rng.randint(len(xs))
        return {"kind": "point", "x": xs[k] + rng.uniform(0.2, 0.8), "y": ys[k] + rng.uniform(0.2, 0.8)}
    if kind == "circle":
        return {"kind": "circle", "cx": (x0 + x1) / 2 + j(), "cy": (y0 + y1) / 2 + j(),
                "r": max(3.0, max(x1 - x0, y1 - y0) / 2 + j())}
    return {"kind": "polygon", "points": [[x0 + j(), y0 + j()], [x1 + j(), y0 + j()], [x1 + j(), y1 + j()],
                                          [x0 + j(), y1 + j()]]}


def background_region(rng, bg_mask):
    for _ in range(30):
        w, h = rng.randint(8, 24), rng.randint(8, 24)
        x0, y0 = rng.randint(0, S - w), rng.randint(0, S - h)
        if bg_mask[y0:y0 + h, x0:x0 + w].mean() > 0.97:
            return {"kind": "box", "x0": float(x0), "y0": float(y0), "x1": float(x0 + w), "y1": float(y0 + h)}
    return None


REGION_QUESTIONS = ["what is in <region1> ?", "what is this <region1> ?", "describe <region1> .",
                    "what does <region1> show ?", "describe this region . <region1>", "what is here ? <region1>"]
SEGMENT_QUESTIONS = ["segment the {p} .", "where is the {p} ?", "find the {p} .", "show the {p} .",
                     "please segment the {p} in the image ."]
DESCRIBE_QUESTIONS = ["describe the image .", "what is in the image ?", "describe this image .",
                      "what does the image show ?"]
COLOUR_QUESTIONS = ["what colour is <region1> ?", "what color is <region1> ?"]


def make_example(rng):
    """One (scene, question, answer, seg target) sample. Answers use the formats the app parses."""
    sc = make_scene(rng)
    while not sc["objects"]:
        sc = make_scene(rng)
    r = rng.rand()
    objs = sc["objects"]
    target = objs[rng.randint(len(objs))]
    region = None
    seg_mask = None
    forced = ""
    if r < 0.40:
        if rng.rand() < 0.15:
            region = background_region(rng, sc["bg_mask"])
        if region is not None:
            phrase, seg_mask = sc["bg"], sc["bg_mask"]
        else:
            region, phrase, seg_mask = region_for(rng, target["mask"]), target["phrase"], target["mask"]
        q = REGION_QUESTIONS[rng.randint(len(REGION_QUESTIONS))]
        a = f"the region shows a <p> {phrase} </p> <SEG> ."
    elif r < 0.62:
        q = SEGMENT_QUESTIONS[rng.randint(len(SEGMENT_QUESTIONS))].format(p=target["phrase"])
        a = f"<p> {target['phrase']} </p> <SEG> ."
        seg_mask = target["mask"]
    elif r < 0.72:
        q = SEGMENT_QUESTIONS[rng.randint(len(SEGMENT_QUESTIONS))].format(p=target["phrase"])
        forced, a = CHAT["groundPrefix"], ""
        seg_mask = target["mask"]
    elif r < 0.88:
        q = DESCRIBE_QUESTIONS[rng.randint(len(DESCRIBE_QUESTIONS))]
        a = "the image shows " + " and ".join("a " + o["phrase"] for o in objs) + f" on a {sc['bg']} ."
    else:
        if rng.rand() < 0.2:
            region = background_region(rng, sc["bg_mask"])
        if region is not None:
            colour = sc["bg"].split()[0]
        else:
            region, colour = region_for(rng, target["mask"]), target["colour"]
        q = COLOUR_QUESTIONS[rng.randint(len(COLOUR_QUESTIONS))]
        a = f"it is {colour} ."
    source = ["optical", "optical", "sar", "infrared"][rng.randint(4)]
    prompt = render_prompt(q, source, forced)
    p_ids = tokenize(prompt)
    a_ids = tokenize(a) + [ID["</s>"]]
    rmask = rasterise(region) if region is not None else np.zeros((S, S), dtype=np.float32)
    return {"image": sc["image"], "ids": p_ids + a_ids, "n_prompt": len(p_ids), "rmask": rmask,
            "seg_mask": seg_mask, "prompt_mask": target["mask"], "has_region": region is not None}


# --------------------------------------------------------------------------------------------------- tensors
def normalise(img_u8, mean, std):
    x = torch.from_numpy(img_u8.astype(np.float32) / np.float32(255.0)).permute(2, 0, 1)
    m = torch.tensor(mean, dtype=torch.float32).reshape(3, 1, 1)
    s = torch.tensor(std, dtype=torch.float32).reshape(3, 1, 1)
    return (x - m) / s


def sub_views(x):
    """[3,S,S] -> [5,3,S,S]: global + 2x2 cells (nearest 2x upsampling), used so the decoder also sees V=5."""
    cells = [x]
    h = S // 2
    for r in range(2):
        for c in range(2):
            cell = x[:, r * h:(r + 1) * h, c * h:(c + 1) * h]
            cells.append(cell.repeat_interleave(2, dim=1).repeat_interleave(2, dim=2))
    return torch.stack(cells)


def prompt_points(rng, mask, max_p=3):
    """Instant-mask prompt for `mask`: a box (labels 2,3) or fg point (+ optional bg point), padded with -1."""
    ys, xs = np.nonzero(mask)
    pts, labs = [], []
    if rng.rand() < 0.5:
        x0, x1, y0, y1 = xs.min(), xs.max() + 1, ys.min(), ys.max() + 1
        j = lambda: rng.uniform(-1.5, 1.5)  # noqa: E731
        pts += [[x0 + j(), y0 + j()], [x1 + j(), y1 + j()]]
        labs += [2, 3]
    else:
        k = rng.randint(len(xs))
        pts.append([xs[k] + 0.5, ys[k] + 0.5])
        labs.append(1)
        if rng.rand() < 0.5:
            bys, bxs = np.nonzero(~mask)
            k = rng.randint(len(bxs))
            pts.append([bxs[k] + 0.5, bys[k] + 0.5])
            labs.append(0)
    while len(pts) < max_p:
        at = rng.randint(len(pts) + 1)
        pts.insert(at, [0.0, 0.0])
        labs.insert(at, -1)
    return pts, labs


def mask_loss(logits, target):
    bce = F.binary_cross_entropy_with_logits(logits, target)
    p = torch.sigmoid(logits).flatten(1)
    t = target.flatten(1)
    dice = 1 - (2 * (p * t).sum(1) + 1) / (p.sum(1) + t.sum(1) + 1)
    return bce + dice.mean()


def iou_of(logits, target):
    pred = (logits > 0).float().flatten(1)
    t = target.flatten(1)
    inter = (pred * t).sum(1)
    union = ((pred + t) > 0).float().sum(1)
    return inter / union.clamp(min=1)


def lm_forward(model, batch, views):
    """Teacher-forced forward of a batch of examples; returns logits, hidden, image index offset."""
    B = len(batch)
    imgs = torch.stack([normalise(e["image"], VIEW_MEAN, VIEW_STD) for e in batch])
    pv = torch.cat([sub_views(x) for x in imgs]) if views == 5 else imgs
    vt = model.vision(pv).reshape(B, views, CONFIG["tokens"], -1)
    L = max(len(e["ids"]) for e in batch)
    ids = torch.full((B, L), ID["<pad>"], dtype=torch.int64)
    for b, e in enumerate(batch):
        ids[b, :len(e["ids"])] = torch.tensor(e["ids"])
    emb = model.embed(ids)
    img_at = batch[0]["ids"].index(ID["<image>"])
    rows = []
    for b, e in enumerate(batch):
        image_embeds, region_embeds = model.prompt(vt[b], torch.from_numpy(e["rmask"])[None])
        eb = torch.where((ids[b] == ID["<region1>"]).unsqueeze(-1), region_embeds[0].unsqueeze(0), emb[b])
        assert e["ids"].index(ID["<image>"]) == img_at
        rows.append(torch.cat([eb[:img_at], image_embeds, eb[img_at + 1:]]))
    x = torch.stack(rows)
    T = x.shape[1]
    hkv, hd = CONFIG["kv_heads"], CONFIG["head_dim"]
    past = [(torch.zeros(B, hkv, 0, hd), torch.zeros(B, hkv, 0, hd)) for _ in range(CONFIG["layers"])]
    pos = torch.arange(T).unsqueeze(0).expand(B, -1)
    logits, _, hidden = model.decoder.run(x, torch.ones(B, T, dtype=torch.int64), pos, past)
    return ids, logits, hidden, img_at, views * CONFIG["tokens"] - 1


def train(model, steps):
    rng = np.random.RandomState(SEED)
    t0 = time.time()
    n_data = 3000
    data = [make_example(rng) for _ in range(n_data)]
    print(f"data: {n_data} examples in {time.time() - t0:.1f}s", flush=True)
    if steps == 0:
        return {"steps": 0}
    opt = torch.optim.AdamW(model.parameters(), lr=LR, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / 30) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * s / steps))))
    B = 16
    hist = []
    for step in range(steps):
        batch = [data[k] for k in rng.randint(0, n_data, size=B)]
        views = 5 if step % 8 == 7 else 1
        ids, logits, hidden, img_at, grow = lm_forward(model, batch, views)
        # next-token targets on the answer (and forced prefix) part only
        tgt = torch.full(ids.shape, -100, dtype=torch.int64)
        for b, e in enumerate(batch):
            n = len(e["ids"])
            tgt[b, e["n_prompt"] - 1:n - 1] = ids[b, e["n_prompt"]:n]
        # shift the text targets into the expanded sequence coordinates
        exp_tgt = torch.cat([tgt[:, :img_at], torch.full((len(batch), grow + 1), -100), tgt[:, img_at + 1:]], 1)
        # position p predicts token p+1: exp_tgt[p] already holds the id at p+1 (targets were built shifted)
        lm = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), exp_tgt.reshape(-1), ignore_index=-100)

        gimg = torch.stack([normalise(e["image"], G_MEAN, G_STD) for e in batch])
        feats = model.grounding(gimg)
        # SEG path: hidden state at the position whose input token is <SEG>
        seg_rows, seg_t = [], []
        for b, e in enumerate(batch):
            if e["seg_mask"] is None:
                continue
            p = e["ids"].index(ID["<SEG>"])
            p = p + grow if p > img_at else p
            seg_rows.append(b)
            seg_t.append(hidden[b, p])
        seg_loss = torch.zeros(())
        if seg_rows:
            n = len(seg_rows)
            target = torch.stack([torch.from_numpy(batch[b]["seg_mask"].astype(np.float32)) for b in seg_rows])[:, None]
            use_box = [rng.rand() < 0.25 for _ in seg_rows]
            pts, labs = [], []
            for b, ub in zip(seg_rows, use_box):
                if ub and batch[b]["seg_mask"] is batch[b]["prompt_mask"]:
                    p_, l_ = prompt_points(rng, batch[b]["seg_mask"])
                else:
                    p_, l_ = [[0.0, 0.0]] * 3, [-1] * 3
                pts.append(p_)
                labs.append(l_)
            ml, sc = model.pixel(feats[seg_rows], torch.stack(seg_t), torch.ones(n),
                                 torch.tensor(pts, dtype=torch.float32), torch.tensor(labs, dtype=torch.float32))
            seg_loss = mask_loss(ml, target) + F.mse_loss(sc, iou_of(ml.detach(), target))
        # instant masks: box / point prompts alone
        pts, labs = zip(*[prompt_points(rng, e["prompt_mask"]) for e in batch])
        target = torch.stack([torch.from_numpy(e["prompt_mask"].astype(np.float32)) for e in batch])[:, None]
        ml, sc = model.pixel(feats, torch.zeros(B, CONFIG["hidden"]), torch.zeros(B),
                             torch.tensor(pts, dtype=torch.float32), torch.tensor(labs, dtype=torch.float32))
        inst_loss = mask_loss(ml, target) + F.mse_loss(sc, iou_of(ml.detach(), target))

        loss = lm + seg_loss + inst_loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        hist.append((lm.item(), seg_loss.item(), inst_loss.item()))
        if step % 50 == 0 or step == steps - 1:
            avg = np.mean(hist[-100:], axis=0)
            print(f"step {step} lm {avg[0]:.3f} seg {avg[1]:.3f} inst {avg[2]:.3f} t {time.time() - t0:.0f}s",
                  flush=True)
    avg = np.mean(hist[-100:], axis=0)
    return {"steps": steps, "batch": B, "final_lm_loss": round(float(avg[0]), 4),
            "final_seg_loss": round(float(avg[1]), 4), "final_instant_loss": round(float(avg[2]), 4)}


# ---------------------------------------------------------------------------------------------------- export
def export(model):
    os.makedirs(PACK_DIR, exist_ok=True)
    c = CONFIG
    D, hkv, hd, L = c["hidden"], c["kv_heads"], c["head_dim"], c["layers"]
    kw = dict(opset_version=14, do_constant_folding=True)

    def ex(module, args, name, inputs, outputs, dyn):
        path = os.path.join(PACK_DIR, f"{name}.onnx")
        torch.onnx.export(module, args, path, input_names=inputs, output_names=outputs, dynamic_axes=dyn, **kw)
        return path

    ex(model.vision, (torch.randn(2, 3, S, S),), "vision", ["pixel_values"], ["visual_tokens"],
       {"pixel_values": {0: "V"}, "visual_tokens": {0: "V"}})
    ex(model.prompt, (torch.randn(2, c["tokens"], D), torch.rand(3, S, S)), "prompt",
       ["visual_tokens", "region_masks"], ["image_embeds", "region_embeds"],
       {"visual_tokens": {0: "V"}, "region_masks": {0: "R"}, "image_embeds": {0: "VN"}, "region_embeds": {0: "R"}})
    ex(model.embed, (torch.tensor([[1, 2, 3]]),), "embed", ["input_ids"], ["inputs_embeds"],
       {"input_ids": {1: "T"}, "inputs_embeds": {1: "T"}})
    P, T = 2, 3
    past = []
    names_in = ["inputs_embeds", "attention_mask", "position_ids"]
    names_out = ["logits"]
    dyn = {"inputs_embeds": {1: "T"}, "attention_mask": {1: "PT"}, "position_ids": {1: "T"}, "logits": {1: "T"},
           "hidden_states": {1: "T"}}
    for i in range(L):
        past += [torch.randn(1, hkv, P, hd), torch.randn(1, hkv, P, hd)]
        for kv in ("key", "value"):
            names_in.append(f"past_key_values.{i}.{kv}")
            names_out.append(f"present.{i}.{kv}")
            dyn[f"past_key_values.{i}.{kv}"] = {2: "P"}
            dyn[f"present.{i}.{kv}"] = {2: "PT"}
    names_out.append("hidden_states")
    ex(Decoder(model.decoder), (torch.randn(1, T, D), torch.ones(1, P + T, dtype=torch.int64),
                                torch.arange(P, P + T).unsqueeze(0), *past), "decoder", names_in, names_out, dyn)
    ex(model.grounding, (torch.randn(1, 3, S, S),), "grounding", ["pixel_values"], ["image_embeddings"], {})
    ex(model.pixel, (torch.randn(1, c["g_channels"], c["g_grid"], c["g_grid"]), torch.randn(1, D), torch.ones(1),
                     torch.rand(1, 3, 2) * S, torch.tensor([[1.0, 0.0, -1.0]])), "pixel",
       ["image_embeddings", "seg_hidden", "has_seg", "points", "point_labels"], ["mask_logits", "score"],
       {"points": {1: "P"}, "point_labels": {1: "P"}})


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_manifest(train_info):
    stages = {}
    for st in ["vision", "prompt", "embed", "decoder", "grounding", "pixel"]:
        stages[st] = {"file": f"{st}.onnx", "sha256": sha256(os.path.join(PACK_DIR, f"{st}.onnx")),
                      "dtype": "float32"}
    c = CONFIG
    manifest = {
        "contract": 1,
        "name": "vantage-test-pack",
        "version": "1.0.0",
        "licence": "CC0-1.0 (synthetic weights trained on generated shapes; no third-party data)",
        "family": "earthgpt-x/geopixel",
        "description": "Tiny synthetic test model for Vantage's own tests: answers templated questions about "
                       "coloured shapes on 64-px views and emits <p> phrase </p> <SEG> masks. Not a real model.",
        "quantisation": "fp32",
        "expectedVramMB": 12,
        "sources": ["optical", "sar", "infrared"],
        "modes": ["chat", "ground", "bitemporal"],
        "view": {"size": S, "tokens": c["tokens"], "maxViews": 5, "mean": VIEW_MEAN, "std": VIEW_STD,
                 "maxImagePixels": 100000000},
        "grounding": {"channels": c["g_channels"], "grid": c["g_grid"], "mean": G_MEAN, "std": G_STD},
        "pixel": {"maskSize": c["mask_size"]},
        "llm": {"hidden": c["hidden"], "layers": c["layers"], "heads": c["heads"], "kvHeads": c["kv_heads"],
                "headDim": c["head_dim"], "vocab": c["vocab"], "maxContext": 512},
        "tokens": {"image": "<image>", "region": "<region{k}>", "maxRegions": 8, "seg": "<SEG>",
                   "phraseOpen": "<p>", "phraseClose": "</p>", "stop": ["</s>"], "pad": "<pad>",
                   "sources": {"optical": "<optical>", "sar": "<sar>", "infrared": "<infrared>"}},
        "chat": CHAT,
        "stages": stages,
        "files": {"tokenizer.json": sha256(os.path.join(PACK_DIR, "tokenizer.json"))},
        # byte size of every file (PACK_CONTRACT.md "Installing packs": a .zip entry is inflated only up to it)
        "sizes": {n: os.path.getsize(os.path.join(PACK_DIR, n))
                  for n in [f"{st}.onnx" for st in stages] + ["tokenizer.json"]},
        "training": train_info,
    }
    with open(os.path.join(PACK_DIR, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")


# ------------------------------------------------------------------------------------------------- reference
REF_IMAGES = {
    "field_red_building": {
        "background": "r = 70 + (7*x + 3*y) % 23; g = 140 + (5*x + 11*y) % 19; b = 60 + (3*x + 13*y) % 17",
        "shape": "solid rgb (210, 40, 35) where 16 <= x < 40 and 20 <= y < 42 (integer pixel column x, row y)",
    },
    "lake_white_tank": {
        "background": "r = 40 + (3*x + 5*y) % 13; g = 80 + (11*x + 2*y) % 17; b = 160 + (x + 7*y) % 29",
        "shape": "solid rgb (240, 240, 240) where (x - 44)^2 + (y - 22)^2 <= 81 (integer pixel column x, row y)",
    },
    "desert_yellow_building": {
        "background": "r = 200 + (9*x + 4*y) % 21; g = 175 + (2*x + 9*y) % 15; b = 120 + (5*x + 5*y) % 11",
        "shape": "solid rgb (235, 210, 40) where 8 <= x < 30 and 34 <= y < 56 (integer pixel column x, row y)",
    },
}


def ref_image(name):
    y, x = np.mgrid[0:S, 0:S]
    img = np.zeros((S, S, 3), dtype=np.int64)
    if name == "field_red_building":
        img[..., 0] = 70 + (7 * x + 3 * y) % 23
        img[..., 1] = 140 + (5 * x + 11 * y) % 19
        img[..., 2] = 60 + (3 * x + 13 * y) % 17
        m = (x >= 16) & (x < 40) & (y >= 20) & (y < 42)
        img[m] = (210, 40, 35)
    elif name == "lake_white_tank":
        img[..., 0] = 40 + (3 * x + 5 * y) % 13
        img[..., 1] = 80 + (11 * x + 2 * y) % 17
        img[..., 2] = 160 + (x + 7 * y) % 29
        m = (x - 44) ** 2 + (y - 22) ** 2 <= 81
        img[m] = (240, 240, 240)
    else:
        img[..., 0] = 200 + (9 * x + 4 * y) % 21
        img[..., 1] = 175 + (2 * x + 9 * y) % 15
        img[..., 2] = 120 + (5 * x + 5 * y) % 11
        m = (x >= 8) & (x < 30) & (y >= 34) & (y < 56)
        img[m] = (235, 210, 40)
    return img.astype(np.uint8)


CASES = [
    {"name": "region_box_red_building", "image": "field_red_building", "question": "what is in <region1> ?",
     "regions": [{"kind": "box", "x0": 14, "y0": 18, "x1": 42, "y1": 44}]},
    {"name": "segment_white_tank", "image": "lake_white_tank", "question": "segment the white storage tank .",
     "regions": []},
    {"name": "region_polygon_yellow_building", "image": "desert_yellow_building", "question": "what is this ?",
     "regions": [{"kind": "polygon", "points": [[6, 32], [32, 33], [31, 58], [7, 57]]}]},
    {"name": "ground_mode_red_building", "image": "field_red_building", "question": "segment the red building .",
     "regions": [], "forcedPrefix": CHAT["groundPrefix"]},
]
TOKENIZER_CHECKS = ["Segment the RED buildings!?", "what's in <region2> , near the lake?",
                    "<s>user: <sar> <image> Describe   the scene.</s>", "zzz unknownword 12 100 road-side"]
INSTANT = {"name": "instant_box_red_building", "image": "field_red_building",
           "points": [[15.0, 19.0], [41.0, 43.0]], "point_labels": [2, 3]}


def expanded_ids(ids):
    """ids with <image> repeated V*N times (V = 1): the token each decoder position consumes."""
    out = []
    for i in ids:
        out += [i] * (CONFIG["tokens"] if i == ID["<image>"] else 1)
    return out


def stats(t):
    t = t.detach().double()
    return {"shape": list(t.shape), "sum": round(float(t.sum()), 6), "absSum": round(float(t.abs().sum()), 6)}


def mask_summary(logits):
    m = (logits[0, 0] > 0).numpy()
    ys, xs = np.nonzero(m)
    bbox = [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())] if len(xs) else None
    return {"positivePixels": int(m.sum()), "bbox": bbox}


@torch.no_grad()
def run_case(model, case):
    img = ref_image(case["image"])
    question = case["question"]
    # the pipeline's hint rule: regions not named in the text are appended as " <region{k}>"
    for k in range(1, len(case["regions"]) + 1):
        if f"<region{k}>" not in question:
            question += f" <region{k}>"
    prompt = render_prompt(question, forced=case.get("forcedPrefix", ""))
    ids = tokenize(prompt)
    pv = normalise(img, VIEW_MEAN, VIEW_STD)[None]
    vt = model.vision(pv)
    rmasks = [rasterise(r) for r in case["regions"]] or [np.zeros((S, S), dtype=np.float32)]
    rm = torch.from_numpy(np.stack(rmasks))
    image_embeds, region_embeds = model.prompt(vt, rm)
    emb = model.embed(torch.tensor([ids]))[0]
    rows = []
    for t, i in enumerate(ids):
        if i == ID["<image>"]:
            rows.append(image_embeds)
        elif VOCAB[i].startswith("<region") and VOCAB[i] in SPECIALS:
            k = int(VOCAB[i][7:-1])
            rows.append(region_embeds[k - 1:k])
        else:
            rows.append(emb[t:t + 1])
    x = torch.cat(rows)[None]
    hkv, hd = CONFIG["kv_heads"], CONFIG["head_dim"]
    past = [(torch.zeros(1, hkv, 0, hd), torch.zeros(1, hkv, 0, hd)) for _ in range(CONFIG["layers"])]
    T = x.shape[1]
    logits, past, hidden = model.decoder.run(x, torch.ones(1, T, dtype=torch.int64), torch.arange(T)[None], past)
    last = logits[0, -1]
    top = torch.topk(last, 5)
    first = {"ids": top.indices.tolist(), "values": [round(float(v), 6) for v in top.values],
             "tokens": [VOCAB[i] for i in top.indices.tolist()], "lastHiddenStats": stats(hidden[0, -1])}
    gen = []
    # a <SEG> already in the prompt (ground mode's forced prefix) is consumed by the prefill step
    seg_hidden = [hidden[0, p] for p, i in enumerate(expanded_ids(ids)) if i == ID["<SEG>"]]
    pos = T
    nxt = int(torch.argmax(last))
    while True:
        gen.append(nxt)
        if nxt == ID["</s>"] or len(gen) >= 32:
            break
        e = model.embed(torch.tensor([[nxt]]))
        logits, past, hidden = model.decoder.run(e, torch.ones(1, pos + 1, dtype=torch.int64),
                                                 torch.tensor([[pos]]), past)
        if nxt == ID["<SEG>"]:
            seg_hidden.append(hidden[0, -1])
        pos += 1
        nxt = int(torch.argmax(logits[0, -1]))
    out = {
        "name": case["name"], "image": case["image"], "question": case["question"], "questionWithHints": question,
        "source": "optical", "forcedPrefix": case.get("forcedPrefix", ""), "regions": case["regions"],
        "regionMaskPixels": [int(m.sum()) for m in rmasks] if case["regions"] else [],
        "views": 1, "prompt": prompt, "inputIds": ids, "sequenceLength": T,
        "visualTokensStats": stats(vt), "regionEmbedsStats": stats(region_embeds),
        "firstStepTop5": first, "generatedIds": gen, "generatedTokens": [VOCAB[i] for i in gen],
        "generatedText": decode(gen), "segMasks": [],
    }
    if seg_hidden:
        feats = model.grounding(normalise(img, G_MEAN, G_STD)[None])
        out["groundingStats"] = stats(feats)
        for h in seg_hidden:
            ml, sc = model.pixel(feats, h[None], torch.ones(1), torch.zeros(1, 1, 2), torch.tensor([[-1.0]]))
            out["segMasks"].append({**mask_summary(ml), "score": round(float(sc[0]), 6), "maskLogitsStats": stats(ml)})
    return out


@torch.no_grad()
def run_instant(model):
    img = ref_image(INSTANT["image"])
    feats = model.grounding(normalise(img, G_MEAN, G_STD)[None])
    ml, sc = model.pixel(feats, torch.zeros(1, CONFIG["hidden"]), torch.zeros(1),
                         torch.tensor([INSTANT["points"]]), torch.tensor([INSTANT["point_labels"]], dtype=torch.float32))
    return {**INSTANT, "has_seg": 0, "seg_hidden": "zeros [1,64]", "groundingStats": stats(feats),
            **mask_summary(ml), "score": round(float(sc[0]), 6), "maskLogitsStats": stats(ml)}


def write_reference(model, train_info):
    ref = {
        "contract": 1,
        "pack": "native-models/testpack/pack",
        "training": train_info,
        "conventions": {
            "coordinates": "image pixels; x = column, y = row; (0,0) is the top-left corner of the first pixel; "
                           "every reference image is 64x64 = view size, so the global view is the image itself "
                           "(views = 1, no sub-images, no resizing)",
            "imageFormulas": REF_IMAGES,
            "pixelOrder": "RGB uint8 -> float32 v/255 -> (v - mean[c]) / std[c]; view.mean/std for vision, "
                          "grounding.mean/std for grounding",
            "rasterisation": {
                "rule": "pixel (col i, row j) is inside when its centre (i+0.5, j+0.5) is inside the geometry",
                "box": "x0 <= cx <= x1 and y0 <= cy <= y1 (after ordering the corners)",
                "point": f"(cx-x)^2 + (cy-y)^2 <= r^2 with r = view.size/16 = {POINT_RADIUS} view pixels",
                "circle": "(cx-cx0)^2 + (cy-cy0)^2 <= r^2",
                "polygon": "even-odd: for each edge (xi,yi)-(xj,yj) with (yi > cy) != (yj > cy), toggle when "
                           "cx < (xj-xi)*(cy-yi)/(yj-yi) + xi",
            },
            "prompt": "chat.system with defaultSystem + chat.user with '<optical> <image> ' + question (+ hints) + "
                      "chat.assistantPrefix, concatenated with no separator",
            "decoding": "greedy, max 32 new tokens, stop at </s> (included in generatedIds)",
            "segMask": "hidden_states of the step that consumes <SEG> (for a <SEG> inside the prompt, e.g. ground "
                       "mode's forced prefix, the prefill's hidden_states row at that position, counting the "
                       "<image> rows); pixel with has_seg=1, seg_hidden=that row, points=[[[0,0]]], "
                       "point_labels=[[-1]]; bbox = [xmin, ymin, xmax, ymax] inclusive of mask_logits > 0",
            "decodedText": "tokenizers.js Tokenizer(tokenizer.json, {}).decode(ids) with default options",
        },
        "cases": [run_case(model, c) for c in CASES],
        "instantMask": run_instant(model),
        "tokenizerChecks": [{"text": t, "ids": tokenize(t)} for t in TOKENIZER_CHECKS],
    }
    with open(REFERENCE, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    return ref


def main():
    t0 = time.time()
    model = TinyModel()
    model.train()
    state_file = os.environ.get("VANTAGE_TESTPACK_STATE")
    if state_file and os.path.exists(state_file):
        saved = torch.load(state_file)
        model.load_state_dict(saved["state"])
        info = saved["info"]
    else:
        info = train(model, STEPS)
        if state_file:
            torch.save({"state": model.state_dict(), "info": info}, state_file)
    model.eval()
    os.makedirs(PACK_DIR, exist_ok=True)
    with open(os.path.join(PACK_DIR, "tokenizer.json"), "w") as f:
        json.dump(tokenizer_json(), f, indent=1)
        f.write("\n")
    export(model)
    write_manifest(info)
    ref = write_reference(model, info)
    # After everything the pack's bytes depend on: the pipeline goldens read the trained model and write only
    # reference_pipeline.json (no RNG draws, no training side effects).
    pipe = pipeline_reference.write(model, sys.modules[__name__], os.path.join(PACK_DIR, "manifest.json"),
                                    os.path.join(OUT_DIR, "reference_pipeline.json"))
    print("pipeline goldens ->", pipe["multiView"]["generatedText"],
          [(m["positivePixels"], m["bbox"]) for m in pipe["multiView"]["segMasks"]])
    for c in ref["cases"]:
        print(c["name"], "->", c["generatedText"], [(m["positivePixels"], m["bbox"]) for m in c["segMasks"]])
    im = ref["instantMask"]
    print("instant ->", im["positivePixels"], im["bbox"], im["score"])
    size = sum(os.path.getsize(os.path.join(PACK_DIR, f)) for f in os.listdir(PACK_DIR))
    print(f"pack {size / 1e6:.2f} MB, total {time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
