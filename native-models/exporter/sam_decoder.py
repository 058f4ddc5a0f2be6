"""The contract's `pixel` stage from SAM's prompt encoder + mask decoder (segment_anything), with LISA/GeoPixel's
`<SEG>` projection.

SamPixel    segment_anything's PromptEncoder (points and box corners; no mask prompt: `no_mask_embed` is the dense
            embedding) and MaskDecoder (TwoWayTransformer depth 2, ReLU MLPs, cross attentions at downsample rate 2,
            4 mask tokens, 4x transposed-conv upscaling, hypernetwork MLPs, IoU head) with its parameter names, so the
            `prompt_encoder.*` / `mask_decoder.*` tensors of sam_vit_b/l/h_*.pth load strictly (load_sam_pixel).
            `text_hidden_fcs` is LISA's / GeoPixel's projection of the `<SEG>` hidden state
            (Linear(D, D), ReLU, Linear(D, C), Dropout(0)); its output is one extra sparse prompt token.

Contract I/O (PACK_CONTRACT.md "Stages"): image_embeddings [1,C,g,g], seg_hidden [1,D], has_seg [1],
points [1,P,2] (view pixels 0..S), point_labels [1,P] (1 fg, 0 bg, 2 box top-left, 3 box bottom-right, -1 padding)
-> mask_logits [1,1,4g,4g], score [1].

The sparse tokens are the ones SAM's predictor (SamPredictor.predict) and LISA's prompt encoder build:
  - each non-padding point: Fourier PE of ((x, y) + 0.5) / S plus the embedding of its label
    (point_embeddings[label]; labels 2 / 3 are SAM's box corners, exactly as its _embed_boxes);
  - SAM's own padding point (not_a_point_embed, zero PE) when there are points and no box (its pad=(boxes is None));
  - the projected `<SEG>` hidden state when has_seg = 1 (LISA appends text_embeds after points/boxes; a <SEG>-only
    call therefore has this single sparse token, as LISA's).
The caller's padding points (label -1) are not tokens. Attention is permutation-equivariant over tokens, so a token
that is absent is written as a token masked out of every attention that reads tokens as keys (token self-attention,
image-to-token attention): its own output is never read, and a masked key adds exactly 0. The <SEG> token is also
zeroed with a `where` when has_seg = 0, so seg_hidden cannot reach the result at all (not even a NaN).

Outputs: mask token 0's low-resolution logits (SAM with multimask_output=False: [1,1,4g,4g], covering the whole S x S
view, since the view is square and fills SAM's input without padding) and score = clamp(iou_prediction[0], 0, 1):
SAM's IoU head regresses the mask's IoU directly (MSE), so its value is already an IoU estimate; the clamp only bounds
it to the contract's 0..1.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from image_encoders import LayerNorm2d

MASKED = -1e4  # additive key bias of an absent token: exp(-1e4) is exactly 0 in fp32; finite so fp16 stays NaN-free


def _cfg(c):
    return {"dim": c["g_channels"], "grid": c["g_grid"], "size": float(c.get("g_size", c["view_size"])), "hidden": c["hidden"],
            "heads": c.get("p_heads", 8), "mlp": c.get("p_mlp", 2048), "depth": c.get("p_depth", 2),
            "multimask": c.get("p_multimask", 3), "iou_hidden": c.get("p_iou_hidden", 256),
            "iou_depth": c.get("p_iou_depth", 3)}


# ----------------------------------------------------------------------------------------------- prompt encoder
class PositionEmbeddingRandom(nn.Module):
    def __init__(self, feats):
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn(2, feats))

    def encode(self, coords):  # coords in 0..1, [..., 2] (x, y)
        c = (2 * coords - 1) @ self.positional_encoding_gaussian_matrix
        c = 2 * math.pi * c
        return torch.cat([torch.sin(c), torch.cos(c)], dim=-1)


class PromptEncoder(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.pe_layer = PositionEmbeddingRandom(dim // 2)
        self.point_embeddings = nn.ModuleList([nn.Embedding(1, dim) for _ in range(4)])
        self.not_a_point_embed = nn.Embedding(1, dim)
        self.no_mask_embed = nn.Embedding(1, dim)
        # mask_downscaling (mask prompts) is not built: the contract has no mask prompt; the loader skips its tensors

    def dense_pe(self, g):
        """SAM's get_dense_pe for a g x g grid: cell centres (i + 0.5) / g -> [1, C, g, g]."""
        t = (torch.arange(g, dtype=torch.float32) + 0.5) / g
        ys, xs = torch.meshgrid(t, t, indexing="ij")
        return self.pe_layer.encode(torch.stack([xs, ys], dim=-1)).permute(2, 0, 1).unsqueeze(0)

    def embed_points(self, points, labels, size):
        """SAM's _embed_points/_embed_boxes on one labelled list (as its ONNX model): [B,P,2], [B,P] -> [B,P,C]."""
        pe = self.pe_layer.encode((points + 0.5) / size)
        lab = labels.unsqueeze(-1)
        emb = torch.where(lab == -1, torch.zeros_like(pe), pe) + (lab == -1).float() * self.not_a_point_embed.weight
        for i, e in enumerate(self.point_embeddings):
            emb = emb + (lab == i).float() * e.weight
        return emb


# ------------------------------------------------------------------------------------------------- mask decoder
class Attention(nn.Module):
    def __init__(self, dim, heads, downsample=1):
        super().__init__()
        self.heads = heads
        inner = dim // downsample
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(dim, inner), nn.Linear(dim, inner), nn.Linear(dim, inner)
        self.out_proj = nn.Linear(inner, dim)

    def forward(self, q, k, v, key_bias=None):
        def split(x):
            b, n, c = x.shape
            return x.reshape(b, n, self.heads, c // self.heads).transpose(1, 2)

        q, k, v = split(self.q_proj(q)), split(self.k_proj(k)), split(self.v_proj(v))
        att = q @ k.permute(0, 1, 3, 2) / math.sqrt(q.shape[-1])
        if key_bias is not None:
            att = att + key_bias
        out = torch.softmax(att, dim=-1) @ v
        b, h, n, c = out.shape
        return self.out_proj(out.transpose(1, 2).reshape(b, n, h * c))


class MLPBlock(nn.Module):  # segment_anything.modeling.common.MLPBlock with ReLU (the transformer's activation)
    def __init__(self, dim, mlp):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(dim, mlp), nn.Linear(mlp, dim)

    def forward(self, x):
        return self.lin2(F.relu(self.lin1(x)))


class MLP(nn.Module):  # segment_anything.modeling.mask_decoder.MLP: ReLU between layers, none after the last
    def __init__(self, i, h, o, n):
        super().__init__()
        dims = [i] + [h] * (n - 1)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(dims, [h] * (n - 1) + [o]))

    def forward(self, x):
        for j, layer in enumerate(self.layers):
            x = layer(x)
            if j < len(self.layers) - 1:
                x = F.relu(x)
        return x


class TwoWayAttentionBlock(nn.Module):
    def __init__(self, dim, heads, mlp, skip_first_layer_pe):
        super().__init__()
        self.self_attn = Attention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.cross_attn_token_to_image = Attention(dim, heads, 2)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = MLPBlock(dim, mlp)
        self.norm3 = nn.LayerNorm(dim)
        self.norm4 = nn.LayerNorm(dim)
        self.cross_attn_image_to_token = Attention(dim, heads, 2)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries, keys, query_pe, key_pe, token_bias):
        if self.skip_first_layer_pe:
            queries = self.self_attn(queries, queries, queries, token_bias)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q, q, queries, token_bias)
        queries = self.norm1(queries)
        k = keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(queries + query_pe, k, keys))
        queries = self.norm3(queries + self.mlp(queries))
        q = queries + query_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(k, q, queries, token_bias))
        return queries, keys


class TwoWayTransformer(nn.Module):
    def __init__(self, depth, dim, heads, mlp):
        super().__init__()
        self.layers = nn.ModuleList([TwoWayAttentionBlock(dim, heads, mlp, i == 0) for i in range(depth)])
        self.final_attn_token_to_image = Attention(dim, heads, 2)
        self.norm_final_attn = nn.LayerNorm(dim)

    def forward(self, image, image_pe, tokens, token_bias):
        keys = image.flatten(2).permute(0, 2, 1)
        key_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries = tokens
        for layer in self.layers:
            queries, keys = layer(queries, keys, tokens, key_pe, token_bias)
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(queries + tokens, keys + key_pe, keys))
        return queries, keys


class MaskDecoder(nn.Module):
    def __init__(self, p):
        super().__init__()
        d = p["dim"]
        self.num_mask_tokens = p["multimask"] + 1
        self.transformer = TwoWayTransformer(p["depth"], d, p["heads"], p["mlp"])
        self.iou_token = nn.Embedding(1, d)
        self.mask_tokens = nn.Embedding(self.num_mask_tokens, d)
        self.output_upscaling = nn.Sequential(nn.ConvTranspose2d(d, d // 4, 2, stride=2), LayerNorm2d(d // 4), nn.GELU(),
                                              nn.ConvTranspose2d(d // 4, d // 8, 2, stride=2), nn.GELU())
        self.output_hypernetworks_mlps = nn.ModuleList([MLP(d, d, d // 8, 3) for _ in range(self.num_mask_tokens)])
        self.iou_prediction_head = MLP(d, p["iou_hidden"], self.num_mask_tokens, p["iou_depth"])

    def predict_masks(self, image, image_pe, sparse, dense, token_bias):
        """SAM's predict_masks; token_bias [B,1,1,N] masks sparse tokens that are absent (0 for present ones)."""
        out_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0).unsqueeze(0)
        tokens = torch.cat([out_tokens.expand(sparse.shape[0], -1, -1), sparse], dim=1)
        src = image + dense
        b, c, h, w = src.shape
        hs, src = self.transformer(src, image_pe, tokens, token_bias)
        mask_out = hs[:, 1:1 + self.num_mask_tokens, :]
        up = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        hyper = torch.stack([m(mask_out[:, i, :]) for i, m in enumerate(self.output_hypernetworks_mlps)], dim=1)
        b, c, h, w = up.shape
        masks = (hyper @ up.reshape(b, c, h * w)).reshape(b, -1, h, w)
        return masks, self.iou_prediction_head(hs[:, 0, :])


# ------------------------------------------------------------------------------------------------------ the stage
class SamPixel(nn.Module):
    def __init__(self, c):
        super().__init__()
        p = _cfg(c)
        self.grid, self.size, self.dim = p["grid"], p["size"], p["dim"]
        self.prompt_encoder = PromptEncoder(p["dim"])
        self.mask_decoder = MaskDecoder(p)
        d = p["hidden"]
        self.text_hidden_fcs = nn.ModuleList([nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, p["dim"]),
                                                            nn.Dropout(0.0))])

    def predict(self, image_embeddings, seg_hidden, has_seg, points, point_labels):
        """All mask tokens' logits [1,M,4g,4g] and raw IoU predictions [1,M] (forward picks token 0)."""
        b = image_embeddings.shape[0]
        pe = self.prompt_encoder
        pts = pe.embed_points(points, point_labels, self.size)  # [B,P,C]
        real = point_labels != -1
        clicks = ((point_labels == 0) | (point_labels == 1)).float().sum(dim=1, keepdim=True) > 0
        box = ((point_labels == 2) | (point_labels == 3)).float().sum(dim=1, keepdim=True) > 0
        pad_on = clicks & ~box  # SAM pads points with one not-a-point when no box is given
        seg_on = has_seg.reshape(b, 1) > 0.5
        seg = self.text_hidden_fcs[0](seg_hidden)
        seg = torch.where(seg_on, seg, torch.zeros_like(seg)).unsqueeze(1)
        pad = pe.not_a_point_embed.weight.unsqueeze(0).expand(b, -1, -1)
        sparse = torch.cat([pts, pad, seg], dim=1)
        # iou + mask tokens are always present
        present = torch.cat([torch.ones(b, 1 + self.mask_decoder.num_mask_tokens, dtype=torch.bool), real, pad_on,
                             seg_on], dim=1)
        bias = torch.where(present, torch.zeros_like(present, dtype=torch.float32),
                           torch.full_like(present, MASKED, dtype=torch.float32)).reshape(b, 1, 1, -1)
        dense = pe.no_mask_embed.weight.reshape(1, -1, 1, 1)
        return self.mask_decoder.predict_masks(image_embeddings, pe.dense_pe(self.grid), sparse, dense, bias)

    def forward(self, image_embeddings, seg_hidden, has_seg, points, point_labels):
        masks, iou = self.predict(image_embeddings, seg_hidden, has_seg, points, point_labels)
        return masks[:, 0:1], torch.clamp(iou[:, 0], 0.0, 1.0)


# ------------------------------------------------------------------------------------------------------- loading
def _fail(msg):
    raise SystemExit(f"SAM pixel loader: {msg}")


def _read(path):
    if path.endswith(".safetensors"):
        from checkpoints import read_safetensors

        return {k: torch.from_numpy(v.copy()) for k, v in read_safetensors(path).items()}
    sd = torch.load(path, map_location="cpu")
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    return sd


def _prefix(sd, leaf, path):
    found = sorted({k[:-len(leaf)] for k in sd if k.endswith(leaf)})
    if len(found) > 1:
        _fail(f"{path} holds {leaf} under several prefixes {found}")
    return found[0] if found else None


def _check_load(module, want, got, what):
    own = {k: v for k, v in module.state_dict().items() if k in want}
    missing = sorted(set(own) - set(got))
    extra = sorted(set(got) - set(own))
    if missing:
        _fail(f"{what} lacks tensor {missing[0]}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""))
    if extra:
        _fail(f"{what} has unexpected tensor {extra[0]} (not segment_anything's layout at this config?)")
    for k, v in own.items():
        if tuple(got[k].shape) != tuple(v.shape):
            _fail(f"{what}: tensor {k} has shape {list(got[k].shape)}, this config needs {list(v.shape)}")
    return {k: got[k].float() for k in own}


def load_sam_pixel(path, module, seg_proj_path=None):
    """Loads a segment_anything checkpoint's `prompt_encoder.*` + `mask_decoder.*` strictly into SamPixel
    (`image_encoder.*` and `prompt_encoder.mask_downscaling.*` are ignored; a LISA/GeoPixel-style file with the SAM
    under a prefix such as `model.visual_model.` loads too), then `text_hidden_fcs` from seg_proj_path (LISA/GeoPixel
    layout `model.text_hidden_fcs.0.{0,2}.*` or bare `text_hidden_fcs.0.*`; .pth/.bin or .safetensors), from the SAM
    file itself when it holds them, else leaves them random and says so."""
    sd = _read(path)
    pre = _prefix(sd, "mask_decoder.iou_token.weight", path)
    if pre is None:
        _fail(f"{path} has no mask_decoder.iou_token.weight (not a segment_anything checkpoint)")
    sam = {}
    for k, v in sd.items():
        if k.startswith(pre) and k[len(pre):].startswith(("prompt_encoder.", "mask_decoder.")):
            name = k[len(pre):]
            if not name.startswith("prompt_encoder.mask_downscaling."):
                sam[name] = v
    own = [k for k in module.state_dict() if not k.startswith("text_hidden_fcs.")]
    state = _check_load(module, set(own), sam, path)

    src, fcs = None, None
    for cand in ([seg_proj_path] if seg_proj_path else []) + [path]:
        t = sd if cand == path else _read(cand)
        fp = _prefix(t, "text_hidden_fcs.0.0.weight", cand)
        if fp is None:
            if cand == seg_proj_path:
                _fail(f"{cand} has no text_hidden_fcs.0.0.weight (LISA/GeoPixel <SEG> projection)")
            continue
        fcs = {k[len(fp):]: v for k, v in t.items() if k.startswith(fp + "text_hidden_fcs.")}
        src = cand
        break
    if fcs is not None:
        state.update(_check_load(module, {k for k in module.state_dict() if k.startswith("text_hidden_fcs.")}, fcs, src))
        print(f"pixel: <SEG> projection text_hidden_fcs from {src}")
    else:
        print("pixel: text_hidden_fcs random (no --seg-projection): point/box masks are SAM's, <SEG> masks are not "
              "meaningful")
    module.load_state_dict(state, strict=False)
    return module
