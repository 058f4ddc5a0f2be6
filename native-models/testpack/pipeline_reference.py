"""Golden outputs of the whole Vantage pipeline, computed from PACK_CONTRACT.md in Python and PyTorch (never by
onnxruntime): view division, region rasterisation, chat template + tokenisation with history trimming, and every
stage's tensors, greedy tokens and masks for a multi-view question on a non-square synthetic image.

Written by generate.py after training (it reads the trained model and draws no random numbers, so the pack's bytes
do not depend on it) into reference_pipeline.json; main/inference/pipelineGoldens.int.test.ts checks the Node
runtime against it. Everything here is implemented from the contract's text, not from the TypeScript.
"""
import hashlib
import json
import math

import numpy as np
import torch

# ------------------------------------------------------------------------------------------------- helpers


def js_round(v):
    """JavaScript's Math.round (halves go up), which the contract's rounding means."""
    return math.floor(v + 0.5)


def rle(mask):
    """Row-major run lengths of a boolean mask, starting with a (possibly empty) run of zeros."""
    flat = np.asarray(mask, dtype=bool).reshape(-1)
    runs, cur, n = [], False, 0
    for v in flat:
        if bool(v) != cur:
            runs.append(n)
            cur, n = bool(v), 0
        n += 1
    runs.append(n)
    return runs


def values(t, digits=6):
    return [round(float(v), digits) for v in t.detach().reshape(-1).double()]


def f32_sha(t):
    return hashlib.sha256(np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()).hexdigest()


def samples(t, n=256):
    flat = t.detach().reshape(-1).double()
    idx = [(k * flat.numel()) // n for k in range(n)]
    return {"indices": idx, "values": [round(float(flat[i]), 6) for i in idx]}


def stats(t):
    d = t.detach().double()
    return {"shape": list(t.shape), "sum": round(float(d.sum()), 5), "absSum": round(float(d.abs().sum()), 5)}


# ---------------------------------------------------------------------------------------- the synthetic image
IMAGE = {
    "width": 150,
    "height": 90,
    "background": "r = 60 + (7*x + 3*y) % 31; g = 120 + (5*x + 11*y) % 23; b = 50 + (3*x + 13*y) % 19",
    "shapes": ["rgb (210, 40, 35) where 20 <= x < 70 and 25 <= y < 60",
               "rgb (240, 240, 240) where (x - 115)^2 + (y - 45)^2 <= 225"],
}


def synthetic_background():
    """IMAGE's background formulas: [H, W, 3] int64, and the pixel grid (y, x)."""
    W, H = IMAGE["width"], IMAGE["height"]
    y, x = np.mgrid[0:H, 0:W]
    return np.stack([60 + (7 * x + 3 * y) % 31, 120 + (5 * x + 11 * y) % 23, 50 + (3 * x + 13 * y) % 19], axis=-1), y, x


def synthetic_image():
    img, y, x = synthetic_background()
    img[(x >= 20) & (x < 70) & (y >= 25) & (y < 60)] = (210, 40, 35)
    img[(x - 115) ** 2 + (y - 45) ** 2 <= 225] = (240, 240, 240)
    return img.astype(np.uint8)


# the later image of the bitemporal golden: the same 150x90 grid (the pair mapping is the identity), two changes
IMAGE_B = {
    "base": "conventions.image (the same grid, formulas and shapes), then:",
    "changes": ["rgb (240, 240, 240) where 95 <= x < 140 and 68 <= y < 86",
                "the red building's left part is gone: background formulas where 20 <= x < 45 and 25 <= y < 60"],
}


def changed_image():
    background, y, x = synthetic_background()
    img = synthetic_image()
    img[(x >= 95) & (x < 140) & (y >= 68) & (y < 86)] = (240, 240, 240)
    gone = (x >= 20) & (x < 45) & (y >= 25) & (y < 60)
    img[gone] = background[gone]
    return img


BITEMPORAL_REGIONS = [{"kind": "box", "x0": 90, "y0": 62, "x1": 145, "y1": 89}]


# ----------------------------------------------------------------------------------------------------- views
def region_bounds(g):
    k = g["kind"]
    if k == "point":
        return g["x"], g["y"], g["x"], g["y"]
    if k == "box":
        return min(g["x0"], g["x1"]), min(g["y0"], g["y1"]), max(g["x0"], g["x1"]), max(g["y0"], g["y1"])
    if k == "circle":
        return g["cx"] - g["r"], g["cy"] - g["r"], g["cx"] + g["r"], g["cy"] + g["r"]
    pad = g["width"] / 2 if k == "scribble" else 0
    xs = [p[0] for p in g["points"]]
    ys = [p[1] for p in g["points"]]
    return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad


def choose_grid(w, h, size, max_cells):
    """Contract "Views": the candidate grids in order of cell count then columns; the closest |log aspect| wins,
    an equally close later grid replaces it only when the area holds over half its cells' pixels."""
    if max_cells < 1:
        return 0, 0
    target = math.log(w / h)
    cands = sorted(((c, r) for c in range(1, max_cells + 1) for r in range(1, max_cells + 1) if c * r <= max_cells),
                   key=lambda cr: (cr[0] * cr[1], cr[0]))
    best, best_d = (1, 1), float("inf")
    for c, r in cands:
        d = abs(target - math.log(c / r))
        if d < best_d - 1e-9:
            best, best_d = (c, r), d
        elif abs(d - best_d) <= 1e-9 and w * h > 0.5 * size * size * c * r:
            best = (c, r)
    return best


def roi_rect(W, H, spec, regions):
    b = [region_bounds(g) for g in regions]
    x0, y0 = min(v[0] for v in b), min(v[1] for v in b)
    x1, y1 = max(v[2] for v in b), max(v[3] for v in b)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = math.sqrt(spec["maxImagePixels"])
    w = min(W, max((x1 - x0) * 2, spec["size"], side))
    h = min(H, max((y1 - y0) * 2, spec["size"], side))

    def start(c, length, limit):
        return min(max(0, js_round(c - length / 2)), limit - js_round(length))

    rx0, ry0 = start(cx, w, W), start(cy, h, H)
    return [rx0, ry0, rx0 + js_round(w), ry0 + js_round(h)]


def plan_views(W, H, spec, regions):
    roi = W * H > spec["maxImagePixels"] and len(regions) > 0
    g = roi_rect(W, H, spec, regions) if roi else [0, 0, W, H]
    gw, gh = g[2] - g[0], g[3] - g[1]
    cols, rows = choose_grid(gw, gh, spec["size"], spec["maxViews"] - 1)
    views = [g]
    for r in range(rows):
        for c in range(cols):
            views.append([g[0] + js_round(c * gw / cols), g[1] + js_round(r * gh / rows),
                          g[0] + js_round((c + 1) * gw / cols), g[1] + js_round((r + 1) * gh / rows)])
    return {"views": views, "grid": {"cols": cols, "rows": rows}, "roi": roi}


def sample_view(img, rect, S):
    """Nearest neighbour at view-pixel centres: source (floor(x0 + (i+0.5)*((x1-x0)/S)), same for rows)."""
    x0, y0, x1, y1 = rect
    kx, ky = (x1 - x0) / S, (y1 - y0) / S
    cols = [math.floor(x0 + (i + 0.5) * kx) for i in range(S)]
    rows = [math.floor(y0 + (j + 0.5) * ky) for j in range(S)]
    return img[np.ix_(rows, cols)]


# ----------------------------------------------------------------------------------------------- rasterising
def rasterise(g, rect, S):
    """Contract "Region masks": geometry mapped to view pixels, pixel centres tested, float64 throughout."""
    x0, y0, x1, y1 = rect
    fx, fy = S / (x1 - x0), S / (y1 - y0)
    k = (fx + fy) / 2
    X = lambda x: (x - x0) * fx  # noqa: E731
    Y = lambda y: (y - y0) * fy  # noqa: E731
    j, i = np.meshgrid(np.arange(S, dtype=np.float64), np.arange(S, dtype=np.float64), indexing="ij")
    cx, cy = i + 0.5, j + 0.5
    kind = g["kind"]
    if kind == "point":
        px, py, r = X(g["x"]), Y(g["y"]), S / 16
        return (cx - px) * (cx - px) + (cy - py) * (cy - py) <= r * r
    if kind == "box":
        bx0, bx1 = X(min(g["x0"], g["x1"])), X(max(g["x0"], g["x1"]))
        by0, by1 = Y(min(g["y0"], g["y1"])), Y(max(g["y0"], g["y1"]))
        return (cx >= bx0) & (cx <= bx1) & (cy >= by0) & (cy <= by1)
    if kind == "circle":
        px, py, r = X(g["cx"]), Y(g["cy"]), g["r"] * k
        return (cx - px) * (cx - px) + (cy - py) * (cy - py) <= r * r
    pts = [(X(p[0]), Y(p[1])) for p in g["points"]]
    if kind == "polygon":
        m = np.zeros((S, S), dtype=bool)
        n = len(pts)
        for a in range(n):
            xi, yi = pts[a]
            xj, yj = pts[a - 1]
            if yi == yj:
                continue
            m ^= ((yi > cy) != (yj > cy)) & (cx < (xj - xi) * (cy - yi) / (yj - yi) + xi)
        return m
    half = g["width"] * k / 2
    segs = list(zip(pts[:-1], pts[1:])) or [(pts[0], pts[0])]
    m = np.zeros((S, S), dtype=bool)
    for (ax, ay), (bx, by) in segs:
        dx, dy = bx - ax, by - ay
        len2 = dx * dx + dy * dy
        t = np.zeros_like(cx) if len2 == 0 else np.minimum(1, np.maximum(0, ((cx - ax) * dx + (cy - ay) * dy) / len2))
        ex, ey = cx - (ax + t * dx), cy - (ay + t * dy)
        m |= ex * ex + ey * ey <= half * half
    return m


# ---------------------------------------------------------------------------------------------------- chat
TASK_TEMPLATES = {"chat": "{text}", "segment": "Please segment {text}.", "region-caption": "Describe <region1> briefly. {text}"}
FORCED = {"chat": False, "segment": True, "region-caption": False, "bitemporal": False}
# contract "Bitemporal mode", Instruction: fixed templates (no region / with regions), not overridable by a pack
BITEMPORAL_TEMPLATES = ("what changed between the two images ? {text}", "what changed in <region1> ? {text}")


def render_chat(man, gen, req, image_extra):
    """Contract "Building the input sequence" and "Task modes", with the history trimmed to the context budget.
    Bitemporal mode (contract "Bitemporal mode"): its own instruction, and the first user turn opens with two
    source-tagged <image>s (A, the earlier date, then B); image_extra is then 2 (V N - 1)."""
    chat, tokens = man["chat"], man["tokens"]
    bitemporal = req["mode"] == "bitemporal"
    template = BITEMPORAL_TEMPLATES[req["regions"] > 0] if bitemporal else TASK_TEMPLATES[req["mode"]]
    user = template.replace("{text}", req["text"]).strip()
    for k in range(1, req["regions"] + 1):
        tag = tokens["region"].replace("{k}", str(k))
        if tag not in user:
            user += " " + tag
    prefix = (tokens["sources"][req["source"]] + " " + tokens["image"] + " ") * (2 if bitemporal else 1)

    def build(history):
        s = chat["system"].replace("{content}", chat["defaultSystem"])
        first = True
        for role, text in history + [("user", user)]:
            if role == "user":
                s += chat["user"].replace("{content}", (prefix if first else "") + text)
                first = False
            else:
                s += chat["assistant"].replace("{content}", text)
        s += chat["assistantPrefix"]
        return s + (" " + chat["groundPrefix"] if FORCED[req["mode"]] else "")

    history = [tuple(t) for t in req["history"]]
    dropped = 0
    while history and history[0][0] != "user":  # a conversation shown to the model starts with a user turn
        history.pop(0)
        dropped += 1
    budget = man["llm"]["maxContext"] - req["maxNewTokens"]
    text = build(history)
    while len(gen.tokenize(text)) + image_extra > budget and history:
        history.pop(0)
        dropped += 1
        while history and history[0][0] != "user":
            history.pop(0)
            dropped += 1
        text = build(history)
    return {"text": text, "ids": gen.tokenize(text), "droppedTurns": dropped}


# ---------------------------------------------------------------------------------------------- fine masks
FINE_MAX_FACTOR = 4  # N <= 4 M
GATE_CELLS = 1


def fine_mask_size(g, subs, M):
    """N: the finest sub-view's cells per global side, between M and min(4 M, the global rect's longer side)."""
    gw, gh = g[2] - g[0], g[3] - g[1]
    n = M
    for r in subs:
        vw, vh = r[2] - r[0], r[3] - r[1]
        if vw > 0 and vh > 0:
            n = max(n, math.ceil(M * gw / vw), math.ceil(M * gh / vh))
    return max(M, min(n, FINE_MAX_FACTOR * M, math.ceil(max(gw, gh))))


def compose_fine_mask(g_rect, g_logits, subs, M):
    """Contract "Decoding", fine masks: one N x N mask over the global rect from the global view's M x M logits and
    each sub-view's (subs: [(rect, logits)]). The global mask grown by GATE_CELLS cells gates where sub-views count;
    a sub-view counts only if it holds the centre of a global-positive cell; a gated cell centre takes the nearest
    logit of the smallest holding sub-view that contains it (equal ones averaged), every other cell the global
    logits bilinearly. float64, vectorised (the app's loop in main/inference/maskCompose.ts is independent code)."""
    gx0, gy0, gx1, gy1 = g_rect
    gw, gh = gx1 - gx0, gy1 - gy0
    subs = [(r, l) for r, l in subs if r[2] > r[0] and r[3] > r[1]]
    n = fine_mask_size(g_rect, [r for r, _ in subs], M)
    G = np.asarray(g_logits, dtype=np.float64).reshape(M, M)
    pos = G > 0
    # the gate: global-positive cells grown by GATE_CELLS (Chebyshev)
    gate = np.zeros_like(pos)
    ys, xs = np.nonzero(pos)
    for dy in range(-GATE_CELLS, GATE_CELLS + 1):
        for dx in range(-GATE_CELLS, GATE_CELLS + 1):
            yy, xx = ys + dy, xs + dx
            ok = (yy >= 0) & (yy < M) & (xx >= 0) & (xx < M)
            gate[yy[ok], xx[ok]] = True
    # global cell centres, to decide which sub-views hold part of the global mask
    cx = gx0 + (np.arange(M) + 0.5) * gw / M
    cy = gy0 + (np.arange(M) + 0.5) * gh / M
    holding = []
    for r, l in subs:
        inside = pos & ((cy >= r[1]) & (cy < r[3]))[:, None] & ((cx >= r[0]) & (cx < r[2]))[None, :]
        if inside.any():
            holding.append((r, np.asarray(l, dtype=np.float64).reshape(M, M)))
    j, i = np.mgrid[0:n, 0:n].astype(np.float64)
    x = gx0 + (i + 0.5) * gw / n
    y = gy0 + (j + 0.5) * gh / n
    # global: bilinear (sample at mask-cell centres, edge-clamped)
    fx = np.clip((x - gx0) * M / gw - 0.5, 0, M - 1)
    fy = np.clip((y - gy0) * M / gh - 0.5, 0, M - 1)
    ax, ay = np.floor(fx).astype(int), np.floor(fy).astype(int)
    bx, by = np.minimum(ax + 1, M - 1), np.minimum(ay + 1, M - 1)
    tx, ty = fx - ax, fy - ay
    top = (1 - tx) * G[ay, ax] + tx * G[ay, bx]
    bottom = (1 - tx) * G[by, ax] + tx * G[by, bx]
    out = (1 - ty) * top + ty * bottom
    gu = np.clip(np.floor((x - gx0) * M / gw).astype(int), 0, M - 1)
    gv = np.clip(np.floor((y - gy0) * M / gh).astype(int), 0, M - 1)
    gated = gate[gv, gu]
    best = np.full((n, n), np.inf)
    total = np.zeros((n, n))
    count = np.zeros((n, n), dtype=np.int64)
    for r, L in holding:
        vw, vh = r[2] - r[0], r[3] - r[1]
        area = vw * vh
        cover = gated & (x >= r[0]) & (x < r[2]) & (y >= r[1]) & (y < r[3]) & (area <= best)
        u = np.clip(np.floor((x - r[0]) * M / vw).astype(int), 0, M - 1)
        w = np.clip(np.floor((y - r[1]) * M / vh).astype(int), 0, M - 1)
        finer = cover & (area < best)
        total[finer] = 0
        count[finer] = 0
        best[cover] = area
        total[cover] = total[cover] + L[w, u][cover]
        count[cover] += 1
    have = count > 0
    out[have] = total[have] / count[have]
    return n, out


# ------------------------------------------------------------------------------------- a small object, fine vs global
SMALL = {
    "width": 128,
    "height": 128,
    "background": "r = 40 + (3*x + 5*y) % 13; g = 80 + (11*x + 2*y) % 17; b = 160 + (x + 7*y) % 29",
    "shape": "rgb (240, 240, 240) where (x - 96)^2 + (y - 30)^2 <= 81",
    "truth": {"kind": "circle", "cx": 96, "cy": 30, "r": 9},
}


def small_object_image():
    y, x = np.mgrid[0:SMALL["height"], 0:SMALL["width"]]
    img = np.zeros((SMALL["height"], SMALL["width"], 3), dtype=np.int64)
    img[..., 0] = 40 + (3 * x + 5 * y) % 13
    img[..., 1] = 80 + (11 * x + 2 * y) % 17
    img[..., 2] = 160 + (x + 7 * y) % 29
    truth = (x - 96) ** 2 + (y - 30) ** 2 <= 81
    img[truth] = (240, 240, 240)
    return img.astype(np.uint8), truth


def pixel_iou(mask, rect, truth):
    """An image pixel is inside a mask over rect when the mask cell holding the pixel's centre is; IoU with truth."""
    H, W = truth.shape
    n = mask.shape[0]
    x0, y0, x1, y1 = rect
    y, x = np.mgrid[0:H, 0:W]
    i = np.clip(np.floor((x + 0.5 - x0) * n / (x1 - x0)).astype(int), 0, n - 1)
    j = np.clip(np.floor((y + 0.5 - y0) * n / (y1 - y0)).astype(int), 0, n - 1)
    pm = mask[j, i]
    return float((pm & truth).sum() / (pm | truth).sum())


def splice(gen, man, ids, emb, image_blocks, region_embeds):
    """The decoder's input sequence: the k-th <image> → image_blocks[k] (one image's view embeddings; bitemporal:
    A's then B's), <regionK> → region K's embedding, else the token's."""
    rows, blocks = [], list(image_blocks)
    for t, i in enumerate(ids):
        tok = gen.VOCAB[i]
        if tok == man["tokens"]["image"]:
            rows.append(blocks.pop(0))
        elif tok.startswith("<region") and tok in gen.SPECIALS:
            k = int(tok[7:-1])
            rows.append(region_embeds[k - 1:k])
        else:
            rows.append(emb[0, t:t + 1])
    assert not blocks, "one image block per <image>"
    return torch.cat(rows)[None]


def prefill(model, man, x):
    """The decoder over the whole spliced sequence from an empty cache: logits, the cache, hidden states."""
    T = x.shape[1]
    L, hkv, hd = man["llm"]["layers"], man["llm"]["kvHeads"], man["llm"]["headDim"]
    past = [(torch.zeros(1, hkv, 0, hd), torch.zeros(1, hkv, 0, hd)) for _ in range(L)]
    return model.decoder.run(x, torch.ones(1, T, dtype=torch.int64), torch.arange(T)[None], past)


def ask_question(model, gen, man, img, regions, req, img_b=None):
    """Views, vision, prompt, splice, greedy decode; returns the rects, view pixels, prompt, ids, sequence length,
    the first step's logits, generated ids and each <SEG>'s hidden state (chat-style answers: no forced prefix):
    the <SEG> token's own row (pixel.segHidden 'consuming', the contract's default) and the row whose logits
    produced it ('predicting': LISA / GLaMM / GeoPixel take hidden[input_ids[:, 1:] == SEG]).

    img_b (bitemporal mode, req["mode"] == "bitemporal"): the later image on the same pixel grid as img, so the
    pair mapping is the identity and B's view for each of A's rects is B's pixels over that same rect. vision and
    prompt run on B's views too (same region masks); B's image_embeds are the second <image>'s block, B's
    region_embeds are ignored."""
    v = man["view"]
    S, N = v["size"], v["tokens"]
    spec = {"size": S, "maxViews": v["maxViews"], "maxImagePixels": v["maxImagePixels"]}
    rects = plan_views(img.shape[1], img.shape[0], spec, regions)["views"]
    rmask = np.stack([rasterise(g, rects[0], S) for g in regions]) if regions else np.zeros((1, S, S), dtype=bool)
    rmask = torch.from_numpy(rmask.astype(np.float32))
    view_rgb, blocks, region_embeds = [], [], None
    for image in [img] + ([] if img_b is None else [img_b]):
        rgb = [sample_view(image, r, S) for r in rects]
        visual = model.vision(torch.stack([gen.normalise(x, v["mean"], v["std"]) for x in rgb]))
        image_embeds, r_embeds = model.prompt(visual, rmask)
        view_rgb.append(rgb)
        blocks.append(image_embeds)
        region_embeds = r_embeds if region_embeds is None else region_embeds  # A's
    rendered = render_chat(man, gen, req, len(blocks) * (len(rects) * N - 1))
    ids = rendered["ids"]
    emb = model.embed(torch.tensor([ids]))
    x = splice(gen, man, ids, emb, blocks, region_embeds)
    T = x.shape[1]
    logits, past, hidden = prefill(model, man, x)
    first_logits = logits[0, -1]
    seg_id, stop = gen.ID["<SEG>"], {gen.TOK2ID[s] for s in man["tokens"]["stop"]}
    trace, generated, seg_hidden, seg_predicting = [], [], [], []
    pos, nxt = T, int(torch.argmax(logits[0, -1]))
    while True:
        trace.append(nxt)
        if nxt in stop:
            break
        generated.append(nxt)
        if nxt == seg_id:
            seg_predicting.append(hidden[0, -1])  # the row whose logits were just argmax'ed to <SEG>
        full = len(generated) >= req["maxNewTokens"]
        if full and nxt != seg_id:
            break
        logits, past, hidden = model.decoder.run(model.embed(torch.tensor([[nxt]])), torch.ones(1, pos + 1, dtype=torch.int64),
                                                 torch.tensor([[pos]]), past)
        pos += 1
        if nxt == seg_id:
            seg_hidden.append(hidden[0, -1])
        if full:
            break
        nxt = int(torch.argmax(logits[0, -1]))
    return {"rects": rects, "viewRgb": view_rgb[0], "viewRgbB": view_rgb[1] if img_b is not None else None,
            "prompt": rendered["text"], "ids": ids, "sequenceLength": T, "firstLogits": first_logits, "trace": trace,
            "generated": generated, "segHidden": seg_hidden, "segHiddenPredicting": seg_predicting}


def view_seg_logits(model, gen, man, view_rgb, h):
    """The pixel decoder with a <SEG> hidden state (has_seg = 1, one padding point) on each view's own grounding
    features: [M x M float32 logits], [scores]."""
    g = man["grounding"]
    out, scores = [], []
    for rgb in view_rgb:
        ml, sc = model.pixel(model.grounding(gen.normalise(rgb, g["mean"], g["std"])[None]), h[None], torch.ones(1),
                             torch.zeros(1, 1, 2), torch.tensor([[-1.0]]))
        out.append(ml[0, 0])
        scores.append(float(sc[0]))
    return out, scores


def fine_golden(rects, view_logits, M):
    subs = [(r, lg.double().numpy()) for r, lg in zip(rects[1:], view_logits[1:])]
    n, fl = compose_fine_mask(rects[0], view_logits[0].double().numpy(), subs, M)
    t = torch.from_numpy(fl)
    return n, fl, {"size": n, "positivePixels": int((fl > 0).sum()), "rle": rle(fl > 0), **stats(t), **samples(t, 1024),
                   "subViewMaskLogits": [{**stats(l), **samples(l)} for l in view_logits[1:]]}


def bitemporal_golden(model, gen, man, regions, text):
    """Contract "Bitemporal mode" on the pair (synthetic_image(), changed_image()): A's views planned as usual, B's
    on A's rects (identity pair mapping), both through vision + prompt, A's block spliced before B's, greedy decode,
    <SEG> masks from A's views (global, and fine from A's sub-views: the runtime applies maskDetail 'views' whenever
    there are sub-views, in this mode too)."""
    N, M = man["view"]["tokens"], man["pixel"]["maskSize"]
    req = {"mode": "bitemporal", "text": text, "regions": len(regions), "source": "optical", "history": [],
           "maxNewTokens": 32}
    q = ask_question(model, gen, man, synthetic_image(), regions, req, img_b=changed_image())
    V = len(q["rects"])
    assert q["sequenceLength"] == len(q["ids"]) + 2 * V * N - 2
    top = torch.topk(q["firstLogits"], 5)
    seg_masks, fine_masks = [], []
    for h in q["segHidden"]:  # pixel.segHidden 'consuming' (the test pack's)
        vl, scores = view_seg_logits(model, gen, man, q["viewRgb"], h)
        g = (vl[0] > 0).numpy()
        seg_masks.append({"size": M, "positivePixels": int(g.sum()), "rle": rle(g), "score": round(scores[0], 6)})
        _, _, fine = fine_golden(q["rects"], vl, M)
        fine_masks.append({"size": fine["size"], "positivePixels": fine["positivePixels"], "rle": fine["rle"],
                           "score": round(scores[0], 6)})
    sha = lambda rgb: [hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest() for r in rgb]  # noqa: E731
    return {
        "imageA": "conventions.image (the earlier date)",
        "imageB": IMAGE_B,
        "pairMapping": "identity: A and B share one pixel grid, so B's view for each of A's rects is B's pixels over "
                       "the same rect (viewsB rects = views rects)",
        "regions": regions,
        "request": req,
        "views": q["rects"],
        "viewRgbSha256A": sha(q["viewRgb"]),
        "viewRgbSha256B": sha(q["viewRgbB"]),
        "prompt": q["prompt"],
        "inputIds": q["ids"],
        "sequenceLength": q["sequenceLength"],
        "sequenceRule": "len(inputIds) + 2 * (V * N - 1): the first <image> -> A's V*N image_embeds rows, "
                        "the second -> B's",
        "firstLogits": {"top5": {"ids": [int(i) for i in top.indices], "values": values(top.values)},
                        "lastRow": values(q["firstLogits"])},
        "generatedIds": q["trace"],
        "generatedText": gen.decode(q["generated"]),
        "maskRule": "each <SEG>: the consuming row through pixel with A's global view's grounding features "
                    "(segMasks, maskDetail 'global'); fineMasks: the same row on each of A's views, composed by "
                    "fineMaskRule (maskDetail 'views', the default with sub-views); score = A's global view's",
        "segMasks": seg_masks,
        "fineMasks": fine_masks,
    }


# ---------------------------------------------------------------------------------------------------- write
@torch.no_grad()
def write(model, gen, manifest_path, out_path):
    with open(manifest_path) as f:
        man = json.load(f)
    v = man["view"]
    S, N, D = v["size"], v["tokens"], man["llm"]["hidden"]
    spec = {"size": S, "maxViews": v["maxViews"], "maxImagePixels": v["maxImagePixels"]}
    img = synthetic_image()
    W, H = IMAGE["width"], IMAGE["height"]

    # (a) view division
    roi_regions = [{"kind": "box", "x0": 12000, "y0": 5000, "x1": 12400, "y1": 5300}, {"kind": "point", "x": 15000, "y": 9000}]
    view_cases = [
        {"width": 64, "height": 64, "regions": []},
        {"width": W, "height": H, "regions": []},
        {"width": 90, "height": 150, "regions": []},
        {"width": 1000, "height": 200, "regions": []},
        {"width": 300, "height": 300, "regions": []},
        {"width": 20, "height": 20, "regions": []},
        {"width": 300, "height": 100, "regions": []},
        {"width": 20000, "height": 12000, "regions": []},
        {"width": 20000, "height": 12000, "regions": roi_regions},
        {"width": 30000, "height": 4000, "regions": [{"kind": "circle", "cx": 29000, "cy": 3900, "r": 50}]},
    ]
    for c in view_cases:
        c.update(plan_views(c["width"], c["height"], spec, c["regions"]))

    # (b) region rasterisation, in the global view of the synthetic image and in a region-of-interest view
    global_rect = [0, 0, W, H]
    raster_regions = [
        {"kind": "point", "x": 40, "y": 40},
        {"kind": "point", "x": 149, "y": 1},
        {"kind": "box", "x0": 120, "y0": 70, "x1": 20.5, "y1": 10.25},
        {"kind": "circle", "cx": 115, "cy": 45, "r": 15},
        {"kind": "scribble", "points": [[10, 80], [60, 50], [100, 75], [140, 20]], "width": 6},
        {"kind": "scribble", "points": [[75, 45]], "width": 10},
        {"kind": "polygon", "points": [[30, 10], [90, 15], [80, 60], [25, 50]]},
        {"kind": "polygon", "points": [[20, 20], [130, 20], [130, 80], [90, 80], [90, 45], [60, 45], [60, 80], [20, 80]]},
        {"kind": "polygon", "points": [[75, 5], [100, 85], [30, 35], [120, 35], [50, 85]]},
    ]
    roi_view = view_cases[8]["views"][0]
    rasters = [{"rect": global_rect, "region": g, "pixels": int(m.sum()), "rle": rle(m)}
               for g in raster_regions for m in [rasterise(g, global_rect, S)]]
    rasters += [{"rect": roi_view, "region": g, "pixels": int(m.sum()), "rle": rle(m)}
                for g in roi_regions + [{"kind": "polygon", "points": [[11000, 4000], [16000, 4500], [14000, 9500]]}]
                for m in [rasterise(g, roi_view, S)]]

    # (c) chat template + tokenisation, incl. history trimming (V = 3 views: the image grows by 3*16 - 1)
    extra = 3 * N - 1
    history = [["user", "what is in <region1> ?"], ["assistant", "the region shows a <p> red building </p> <SEG> ."],
               ["user", "describe the image ."], ["assistant", "the image shows a red building on a green field ."]]
    chat_cases = [
        {"mode": "chat", "text": "what is in <region1> ?", "regions": 2, "source": "optical", "history": [], "maxNewTokens": 32},
        {"mode": "chat", "text": "what colour is it ?", "regions": 1, "source": "sar", "history": history, "maxNewTokens": 32},
        {"mode": "segment", "text": "the white storage tank", "regions": 0, "source": "infrared",
         "history": [["assistant", "hello ."]] + history, "maxNewTokens": 32},
        {"mode": "region-caption", "text": "", "regions": 1, "source": "optical", "history": history, "maxNewTokens": 32},
    ]
    # a budget that fits the question after dropping exactly the first exchange (two turns)
    trimmed = render_chat(man, gen, {**chat_cases[1], "history": history[2:]}, extra)
    chat_cases.append({**chat_cases[1], "maxNewTokens": man["llm"]["maxContext"] - extra - len(trimmed["ids"])})
    for c in chat_cases:
        c["imageExtraTokens"] = extra
        r = render_chat(man, gen, c, extra)
        c.update({"rendered": r["text"], "ids": r["ids"], "droppedTurns": r["droppedTurns"]})
    assert chat_cases[-1]["droppedTurns"] == 2 and chat_cases[3]["droppedTurns"] == 0

    # (d) + (e) one multi-view question through every stage
    q_regions = [{"kind": "box", "x0": 18, "y0": 22, "x1": 72, "y1": 62}, {"kind": "point", "x": 115, "y": 45}]
    plan = plan_views(W, H, spec, q_regions)
    rects = plan["views"]
    assert len(rects) >= 3, rects
    view_rgb = [sample_view(img, r, S) for r in rects]
    pv = torch.stack([gen.normalise(x, v["mean"], v["std"]) for x in view_rgb])
    visual = model.vision(pv)
    rmask = torch.from_numpy(np.stack([rasterise(g, rects[0], S) for g in q_regions]).astype(np.float32))
    image_embeds, region_embeds = model.prompt(visual, rmask)
    req = {"mode": "chat", "text": "what is in <region1> ?", "regions": len(q_regions), "source": "optical",
           "history": [], "maxNewTokens": 32}
    rendered = render_chat(man, gen, req, len(rects) * N - 1)
    ids = rendered["ids"]
    emb = model.embed(torch.tensor([ids]))
    x = splice(gen, man, ids, emb, [image_embeds], region_embeds)
    T = x.shape[1]
    logits, past, hidden = prefill(model, man, x)
    prefill_logits = logits
    seg_id, stop = gen.ID["<SEG>"], {gen.TOK2ID[s] for s in man["tokens"]["stop"]}
    trace, generated, seg_hidden = [], [], []
    pos, nxt = T, int(torch.argmax(logits[0, -1]))
    while True:  # the pipeline's greedy loop: stop ids end it; a <SEG> at the limit still gets its hidden state
        trace.append(nxt)
        if nxt in stop:
            break
        generated.append(nxt)
        full = len(generated) >= req["maxNewTokens"]
        if full and nxt != seg_id:
            break
        e = model.embed(torch.tensor([[nxt]]))
        logits, past, hidden = model.decoder.run(e, torch.ones(1, pos + 1, dtype=torch.int64), torch.tensor([[pos]]), past)
        pos += 1
        if nxt == seg_id:
            seg_hidden.append(hidden[0, -1])
        if full:
            break
        nxt = int(torch.argmax(logits[0, -1]))
    g = man["grounding"]
    gpv = gen.normalise(view_rgb[0], g["mean"], g["std"])[None]
    feats = model.grounding(gpv)
    seg_masks = []
    for h in seg_hidden:
        ml, sc = model.pixel(feats, h[None], torch.ones(1), torch.zeros(1, 1, 2), torch.tensor([[-1.0]]))
        seg_masks.append({"maskLogits": values(ml), "score": round(float(sc[0]), 6), "positivePixels": int((ml > 0).sum()),
                          "bbox": bbox(ml), "rle": rle((ml[0, 0] > 0).numpy())})
    # (f) fine masks (maskDetail 'views'): the same <SEG> hidden states on every sub-view, composed over the global rect
    M = man["pixel"]["maskSize"]
    fine_masks = []
    for k, h in enumerate(seg_hidden):
        vl, _ = view_seg_logits(model, gen, man, view_rgb, h)
        same = model.pixel(feats, h[None], torch.ones(1), torch.zeros(1, 1, 2), torch.tensor([[-1.0]]))[0][0, 0]
        assert torch.equal(vl[0], same)  # the global view's logits are the segMasks' above
        fine_masks.append({**fine_golden(rects, vl, M)[2], "score": seg_masks[k]["score"]})
    # (g) a small object inside one sub-view: the fine mask is closer to the drawn shape than the global one
    small_img, small_truth = small_object_image()
    small_req = {"mode": "chat", "text": "segment the white storage tank .", "regions": 0, "source": "optical",
                 "history": [], "maxNewTokens": 32}
    sq = ask_question(model, gen, man, small_img, [], small_req)
    assert len(sq["segHidden"]) == 1 and len(sq["rects"]) == 5, (sq["rects"], gen.decode(sq["generated"]))
    svl, sscores = view_seg_logits(model, gen, man, sq["viewRgb"], sq["segHidden"][0])
    sn, sfl, sfine = fine_golden(sq["rects"], svl, M)
    sglobal = (svl[0] > 0).numpy()
    small = {
        "image": {k: SMALL[k] for k in ("width", "height", "background", "shape")},
        "truth": SMALL["truth"],
        "truthPixels": int(small_truth.sum()),
        "request": small_req,
        "views": sq["rects"],
        "viewRgbSha256": [hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest() for r in sq["viewRgb"]],
        "generatedIds": sq["trace"],
        "generatedText": gen.decode(sq["generated"]),
        "globalMask": {"size": M, "positivePixels": int(sglobal.sum()), "rle": rle(sglobal), "score": round(sscores[0], 6)},
        "fineMask": sfine,
        "iou": {"global": round(pixel_iou(sglobal, sq["rects"][0], small_truth), 6),
                "fine": round(pixel_iou(sfl > 0, sq["rects"][0], small_truth), 6)},
    }
    assert small["iou"]["fine"] > small["iou"]["global"], small["iou"]
    # (h) the same question with pixel.segHidden 'predicting': the global-view mask from the row that produced <SEG>
    pvl, pscores = view_seg_logits(model, gen, man, sq["viewRgb"][:1], sq["segHiddenPredicting"][0])
    pglobal = (pvl[0] > 0).numpy()
    small["predictingGlobalMask"] = {"size": M, "positivePixels": int(pglobal.sum()), "rle": rle(pglobal),
                                     "score": round(pscores[0], 6)}
    assert small["predictingGlobalMask"]["rle"] != small["globalMask"]["rle"]  # the convention changes the mask
    # an instant mask on the global view: a box around the tank in image pixels, mapped as ((x - x0) * S) / w
    box = {"x0": 98, "y0": 28, "x1": 132, "y1": 62}
    gx0, gy0, gx1, gy1 = rects[0]
    pts = [[((box["x0"] - gx0) * S) / (gx1 - gx0), ((box["y0"] - gy0) * S) / (gy1 - gy0)],
           [((box["x1"] - gx0) * S) / (gx1 - gx0), ((box["y1"] - gy0) * S) / (gy1 - gy0)]]
    iml, isc = model.pixel(feats, torch.zeros(1, D), torch.zeros(1), torch.tensor([pts], dtype=torch.float32),
                           torch.tensor([[2.0, 3.0]]))
    out = {
        "contract": man["contract"],
        "generator": "native-models/testpack/pipeline_reference.py (called by generate.py after training)",
        "conventions": {
            "image": IMAGE,
            "viewSampling": "view pixel (i, j) of rect [x0,y0,x1,y1] takes source pixel (floor(x0 + (i+0.5)*((x1-x0)/S)), "
                            "floor(y0 + (j+0.5)*((y1-y0)/S))): nearest neighbour at view-pixel centres",
            "pixelValues": "float32 throughout: (u8 / 255 - mean[c]) / std[c]; sha256 of the little-endian float32 bytes",
            "rle": "row-major run lengths of the 0/1 mask, starting with a run of zeros (possibly 0)",
            "rounding": "Math.round (floor(v + 0.5)) wherever the contract rounds",
            "values": "rounded to 6 decimals",
        },
        "viewSpec": spec,
        "viewDivision": view_cases,
        "rasters": rasters,
        "chat": chat_cases,
        "fineMaskRule": "maskDetail 'views' (PACK_CONTRACT.md Decoding): N = max(M, min(max over sub-views of "
                        "ceil(M*gw/vw), ceil(M*gh/vh); 4*M; ceil(max(gw, gh)))); cell centre x = gx0 + (i+0.5)*gw/N; the "
                        "global mask (logit > 0) grown by 1 cell (Chebyshev) gates; sub-views holding a global-positive cell "
                        "centre give the gated cells' logits (nearest cell, smallest view wins, ties averaged); other cells: "
                        "global logits bilinear at mask-cell centres, edge-clamped; inside = logit > 0",
        "smallObject": small,
        "bitemporal": bitemporal_golden(model, gen, man, BITEMPORAL_REGIONS, ""),
        "multiView": {
            "regions": q_regions,
            "request": req,
            "views": rects,
            "grid": plan["grid"],
            "viewRgbSha256": [hashlib.sha256(np.ascontiguousarray(r).tobytes()).hexdigest() for r in view_rgb],
            "pixelValues": {**stats(pv), "sha256": f32_sha(pv), **samples(pv)},
            "regionMasks": [rle(m.numpy() > 0) for m in rmask],
            "prompt": rendered["text"],
            "inputIds": ids,
            "sequenceLength": T,
            "visualTokens": {**stats(visual), "values": values(visual)},
            "imageEmbeds": {**stats(image_embeds), "values": values(image_embeds)},
            "regionEmbeds": {**stats(region_embeds), "values": values(region_embeds)},
            "inputsEmbeds": {**stats(emb), "values": values(emb)},
            "prefillLogits": {**stats(prefill_logits), "lastRow": values(prefill_logits[0, -1]), **samples(prefill_logits)},
            "groundingPixelValues": {**stats(gpv), "sha256": f32_sha(gpv)},
            "imageEmbeddings": {**stats(feats), "values": values(feats)},
            "generatedIds": trace,
            "generatedText": gen.decode(generated),
            "segMasks": seg_masks,
            "fineMasks": fine_masks,
            "instantMask": {"box": box, "points": pts, "maskLogits": values(iml), "score": round(float(isc[0]), 6),
                            "positivePixels": int((iml > 0).sum()), "bbox": bbox(iml), "rle": rle((iml[0, 0] > 0).numpy())},
        },
    }
    with open(out_path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    return out


def bbox(logits):
    ys, xs = np.nonzero((logits[0, 0] > 0).numpy())
    return [int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())] if len(xs) else None
