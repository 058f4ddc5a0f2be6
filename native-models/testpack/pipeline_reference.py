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


def synthetic_image():
    W, H = IMAGE["width"], IMAGE["height"]
    y, x = np.mgrid[0:H, 0:W]
    img = np.zeros((H, W, 3), dtype=np.int64)
    img[..., 0] = 60 + (7 * x + 3 * y) % 31
    img[..., 1] = 120 + (5 * x + 11 * y) % 23
    img[..., 2] = 50 + (3 * x + 13 * y) % 19
    img[(x >= 20) & (x < 70) & (y >= 25) & (y < 60)] = (210, 40, 35)
    img[(x - 115) ** 2 + (y - 45) ** 2 <= 225] = (240, 240, 240)
    return img.astype(np.uint8)


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
FORCED = {"chat": False, "segment": True, "region-caption": False}


def render_chat(man, gen, req, image_extra):
    """Contract "Building the input sequence" and "Task modes", with the history trimmed to the context budget."""
    chat, tokens = man["chat"], man["tokens"]
    user = TASK_TEMPLATES[req["mode"]].replace("{text}", req["text"]).strip()
    for k in range(1, req["regions"] + 1):
        tag = tokens["region"].replace("{k}", str(k))
        if tag not in user:
            user += " " + tag
    prefix = tokens["sources"][req["source"]] + " " + tokens["image"] + " "

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
    rows = []
    for t, i in enumerate(ids):
        tok = gen.VOCAB[i]
        if tok == man["tokens"]["image"]:
            rows.append(image_embeds)
        elif tok.startswith("<region") and tok in gen.SPECIALS:
            k = int(tok[7:-1])
            rows.append(region_embeds[k - 1:k])
        else:
            rows.append(emb[0, t:t + 1])
    x = torch.cat(rows)[None]
    T = x.shape[1]
    L, hkv, hd = man["llm"]["layers"], man["llm"]["kvHeads"], man["llm"]["headDim"]
    past = [(torch.zeros(1, hkv, 0, hd), torch.zeros(1, hkv, 0, hd)) for _ in range(L)]
    logits, past, hidden = model.decoder.run(x, torch.ones(1, T, dtype=torch.int64), torch.arange(T)[None], past)
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
