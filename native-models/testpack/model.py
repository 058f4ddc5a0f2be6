"""PyTorch reference of the tiny Vantage test model (pack contract v1, see ../PACK_CONTRACT.md).

Six stages, each an nn.Module whose forward() has exactly the contract's inputs and outputs so that it can be
exported one-to-one with torch.onnx.export. Shapes are fixed by CONFIG; every size the contract leaves variable
(V, R, T, P, point count) is handled with -1 reshapes so that the traced graphs keep those axes dynamic.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG = {
    "view_size": 64,  # S
    "patch": 8,  # 64 / 8 = 8x8 patches
    "merge": 2,  # 2x2 patch merge -> 4x4 = 16 tokens
    "tokens": 16,  # N
    "vision_width": 48,
    "hidden": 64,  # D
    "layers": 2,
    "heads": 4,
    "kv_heads": 2,
    "head_dim": 16,
    "intermediate": 128,
    "vocab": 512,
    "rope_theta": 10000.0,
    "rms_eps": 1e-5,
    "g_channels": 32,  # C
    "g_grid": 16,  # g
    "mask_size": 64,  # M
}


# ----------------------------------------------------------------------------------------------------------- vision
class VisionBlock(nn.Module):
    """Pre-norm transformer block (ViT style) over the 16 merged tokens of each view."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, dim * 2)
        self.fc2 = nn.Linear(dim * 2, dim)

    def forward(self, x):
        n = x.shape[1]
        d = x.shape[2]
        hd = d // self.heads
        q, k, v = self.qkv(self.norm1(x)).reshape(-1, n, 3, self.heads, hd).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(hd), dim=-1)
        y = (att @ v).transpose(1, 2).reshape(-1, n, d)
        x = x + self.proj(y)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class Vision(nn.Module):
    """pixel_values [V,3,S,S] -> visual_tokens [V,N,D]: patch-embed conv, 2x2 merge, two blocks, projection."""

    def __init__(self, c=CONFIG):
        super().__init__()
        w = c["vision_width"]
        self.grid = c["view_size"] // c["patch"]
        self.patch = nn.Conv2d(3, w, kernel_size=c["patch"], stride=c["patch"])
        self.merge = nn.Linear(w * 4, c["hidden"])
        self.pos = nn.Parameter(torch.zeros(1, c["tokens"], c["hidden"]))
        self.blocks = nn.ModuleList([VisionBlock(c["hidden"], 4) for _ in range(2)])
        self.norm = nn.LayerNorm(c["hidden"])
        self.out = nn.Linear(c["hidden"], c["hidden"])

    def forward(self, pixel_values):
        x = self.patch(pixel_values)  # [V,w,8,8]
        w = x.shape[1]
        g2 = self.grid // 2
        # 2x2 merge: the four neighbours of each merged cell are concatenated along channels (row-major cells).
        x = x.reshape(-1, w, g2, 2, g2, 2).permute(0, 2, 4, 3, 5, 1).reshape(-1, g2 * g2, 4 * w)
        x = self.merge(x) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.out(self.norm(x))


# ----------------------------------------------------------------------------------------------------------- prompt
class Prompt(nn.Module):
    """visual_tokens [V,N,D] + region_masks [R,S,S] -> image_embeds [V*N,D], region_embeds [R,D].

    A region's embedding is the mask-weighted mean of the global view's (view 0) tokens, the weights being the
    region's coverage of each merged cell (mask averaged over the 16x16-pixel cell), concatenated with that coverage
    map itself (so the embedding knows where the region is) and projected to D.
    """

    def __init__(self, c=CONFIG):
        super().__init__()
        d = c["hidden"]
        self.cells = int(round(math.sqrt(c["tokens"])))  # 4
        self.cell_px = c["view_size"] // self.cells  # 16
        self.img_proj = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, d))
        self.reg_proj = nn.Sequential(nn.Linear(d + c["tokens"], d), nn.GELU(), nn.Linear(d, d))

    def forward(self, visual_tokens, region_masks):
        d = visual_tokens.shape[2]
        image_embeds = self.img_proj(visual_tokens).reshape(-1, d)
        k, p = self.cells, self.cell_px
        cover = region_masks.reshape(-1, k, p, k, p).mean(dim=(2, 4)).reshape(-1, k * k)  # [R,16]
        weights = cover / (cover.sum(dim=1, keepdim=True) + 1e-6)
        pooled = weights @ visual_tokens[0]  # [R,D]
        region_embeds = self.reg_proj(torch.cat([pooled, cover], dim=1))
        return image_embeds, region_embeds


# ------------------------------------------------------------------------------------------------------------ embed
class Embed(nn.Module):
    def __init__(self, c=CONFIG):
        super().__init__()
        self.tokens = nn.Embedding(c["vocab"], c["hidden"])

    def forward(self, input_ids):
        return self.tokens(input_ids)


# ---------------------------------------------------------------------------------------------------------- decoder
class RMSNorm(nn.Module):
    def __init__(self, dim: int, eps: float):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class DecoderLayer(nn.Module):
    def __init__(self, c=CONFIG):
        super().__init__()
        d, hd = c["hidden"], c["head_dim"]
        self.h, self.kvh, self.hd = c["heads"], c["kv_heads"], hd
        self.in_norm = RMSNorm(d, c["rms_eps"])
        self.q = nn.Linear(d, self.h * hd, bias=False)
        self.k = nn.Linear(d, self.kvh * hd, bias=False)
        self.v = nn.Linear(d, self.kvh * hd, bias=False)
        self.o = nn.Linear(self.h * hd, d, bias=False)
        self.post_norm = RMSNorm(d, c["rms_eps"])
        self.gate = nn.Linear(d, c["intermediate"], bias=False)
        self.up = nn.Linear(d, c["intermediate"], bias=False)
        self.down = nn.Linear(c["intermediate"], d, bias=False)

    def forward(self, x, cos, sin, bias, past_k, past_v):
        b = x.shape[0]
        h = self.in_norm(x)
        q = self.q(h).reshape(b, -1, self.h, self.hd).transpose(1, 2)  # [B,H,T,hd]
        k = self.k(h).reshape(b, -1, self.kvh, self.hd).transpose(1, 2)  # [B,Hkv,T,hd]
        v = self.v(h).reshape(b, -1, self.kvh, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)  # [B,Hkv,P+T,hd]
        v = torch.cat([past_v, v], dim=2)
        rep = self.h // self.kvh
        # GQA: each kv head serves `rep` consecutive query heads.
        kk = k.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(b, self.h, -1, self.hd)
        vv = v.unsqueeze(2).expand(-1, -1, rep, -1, -1).reshape(b, self.h, -1, self.hd)
        att = (q @ kk.transpose(-1, -2)) / math.sqrt(self.hd) + bias
        y = torch.softmax(att, dim=-1) @ vv  # [B,H,T,hd]
        y = y.transpose(1, 2).reshape(b, -1, self.h * self.hd)
        x = x + self.o(y)
        h = self.post_norm(x)
        x = x + self.down(F.silu(self.gate(h)) * self.up(h))
        return x, k, v


class DecoderCore(nn.Module):
    """LLaMA-style decoder: RMSNorm, RoPE, GQA, SwiGLU, explicit KV cache, untied LM head."""

    def __init__(self, c=CONFIG):
        super().__init__()
        self.c = c
        self.layers = nn.ModuleList([DecoderLayer(c) for _ in range(c["layers"])])
        self.norm = RMSNorm(c["hidden"], c["rms_eps"])
        self.lm_head = nn.Linear(c["hidden"], c["vocab"], bias=False)
        hd = c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        self.register_buffer("inv_freq", inv, persistent=False)

    def run(self, inputs_embeds, attention_mask, position_ids, past):
        """past: list of (k, v) per layer. Returns logits, [(k, v)], hidden_states."""
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq  # [B,T,hd/2]
        emb = torch.cat([freqs, freqs], dim=-1).unsqueeze(1)  # [B,1,T,hd]
        cos, sin = emb.cos(), emb.sin()
        # Key j is visible to query i when its position (running count of attended slots) is <= the query's
        # position and the slot is not masked out; this needs no arange over dynamic sizes.
        key_pos = torch.cumsum(attention_mask, dim=1) - 1  # [B,P+T]
        allowed = (key_pos.unsqueeze(1) <= position_ids.unsqueeze(2)) & (attention_mask.unsqueeze(1) > 0)
        bias = (1.0 - allowed.to(torch.float32)).unsqueeze(1) * -1e9  # [B,1,T,P+T]
        x = inputs_embeds
        presents = []
        for layer, (pk, pv) in zip(self.layers, past):
            x, k, v = layer(x, cos, sin, bias, pk, pv)
            presents.append((k, v))
        hidden = self.norm(x)
        return self.lm_head(hidden), presents, hidden


class Decoder(nn.Module):
    """Export wrapper with the contract's flat input/output list."""

    def __init__(self, core: DecoderCore):
        super().__init__()
        self.core = core

    def forward(self, inputs_embeds, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents, hidden = self.core.run(inputs_embeds, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        out.append(hidden)
        return tuple(out)


# -------------------------------------------------------------------------------------------------------- grounding
class Grounding(nn.Module):
    """pixel_values [1,3,S,S] -> image_embeddings [1,C,g,g]; the SAM image-encoder role, as a small conv net."""

    def __init__(self, c=CONFIG):
        super().__init__()
        ch = c["g_channels"]
        self.net = nn.Sequential(
            nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(16, ch, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(ch, ch, 3, padding=1), nn.GELU(),
            nn.Conv2d(ch, ch, 3, padding=1),
        )

    def forward(self, pixel_values):
        return self.net(pixel_values)


# ------------------------------------------------------------------------------------------------------------ pixel
def fourier_pe(xy01, gauss):
    """xy in [0,1] -> SAM-style random Fourier features (fixed Gaussian matrix), 2*F channels."""
    p = (2.0 * xy01 - 1.0) @ gauss * (2.0 * math.pi)
    return torch.cat([torch.sin(p), torch.cos(p)], dim=-1)


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int = 2):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)

    def forward(self, q, k, v, key_bias=None):
        b, d = q.shape[0], q.shape[2]
        hd = d // self.heads
        qq = self.q(q).reshape(b, -1, self.heads, hd).transpose(1, 2)
        kk = self.k(k).reshape(b, -1, self.heads, hd).transpose(1, 2)
        vv = self.v(v).reshape(b, -1, self.heads, hd).transpose(1, 2)
        att = qq @ kk.transpose(-1, -2) / math.sqrt(hd)
        if key_bias is not None:
            att = att + key_bias  # [B,1,1,K]
        y = (torch.softmax(att, dim=-1) @ vv).transpose(1, 2).reshape(b, -1, d)
        return self.o(y)


class Pixel(nn.Module):
    """SAM-like mask decoder.

    Tokens: [iou, mask, seg, point_1..point_P]. The seg token is the projected `seg_hidden`, gated by `has_seg`;
    point tokens are fixed Fourier encodings of (x,y)/S plus a learned label embedding (0 bg, 1 fg, 2 box top-left,
    3 box bottom-right); padding points (label -1) and a gated-off seg token are excluded from every attention as
    keys. One two-way layer (token self-attn, token->image, image->token), a final token->image attention, a 4x
    transposed-conv upsampling and a hypernetwork dot product give the mask; an MLP on the iou token gives the score.
    """

    def __init__(self, c=CONFIG):
        super().__init__()
        ch, d = c["g_channels"], c["hidden"]
        self.size = float(c["view_size"])
        g = torch.Generator().manual_seed(1234)
        self.register_buffer("gauss", torch.randn(2, ch // 2, generator=g))
        ys, xs = torch.meshgrid(torch.arange(c["g_grid"]), torch.arange(c["g_grid"]), indexing="ij")
        grid = torch.stack([(xs + 0.5) / c["g_grid"], (ys + 0.5) / c["g_grid"]], dim=-1).float()
        self.register_buffer("dense_pe", fourier_pe(grid, self.gauss).reshape(1, -1, ch))  # [1,g*g,C]
        self.label_emb = nn.Embedding(4, ch)
        self.iou_tok = nn.Parameter(torch.randn(1, 1, ch) * 0.1)
        self.mask_tok = nn.Parameter(torch.randn(1, 1, ch) * 0.1)
        self.seg_proj = nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Linear(d, ch))
        self.self_attn = Attention(ch)
        self.n1 = nn.LayerNorm(ch)
        self.t2i = Attention(ch)
        self.n2 = nn.LayerNorm(ch)
        self.mlp = nn.Sequential(nn.Linear(ch, ch * 2), nn.GELU(), nn.Linear(ch * 2, ch))
        self.n3 = nn.LayerNorm(ch)
        self.i2t = Attention(ch)
        self.n4 = nn.LayerNorm(ch)
        self.final_t2i = Attention(ch)
        self.n5 = nn.LayerNorm(ch)
        self.up = nn.Sequential(
            nn.ConvTranspose2d(ch, 16, 2, stride=2), nn.GELU(), nn.ConvTranspose2d(16, 8, 2, stride=2)
        )
        self.hyper = nn.Sequential(nn.Linear(ch, ch), nn.GELU(), nn.Linear(ch, 8))
        self.iou_head = nn.Sequential(nn.Linear(ch, ch), nn.GELU(), nn.Linear(ch, 1))

    def forward(self, image_embeddings, seg_hidden, has_seg, points, point_labels):
        b, ch, gh, gw = image_embeddings.shape
        valid = (point_labels >= 0).to(torch.float32)  # [B,P]
        lab = torch.clamp(point_labels, min=0.0).to(torch.int64)
        pts = fourier_pe(points / self.size, self.gauss) + self.label_emb(lab)
        pts = pts * valid.unsqueeze(-1)
        gate = has_seg.reshape(-1, 1).to(torch.float32)  # [B,1]
        seg = (self.seg_proj(seg_hidden) * gate).unsqueeze(1)  # [B,1,C]
        fixed = torch.cat([self.iou_tok, self.mask_tok], dim=1).expand(b, -1, -1)
        tokens = torch.cat([fixed, seg, pts], dim=1)  # [B,3+P,C]
        ones = torch.ones_like(gate).expand(-1, 2)
        key_ok = torch.cat([ones, gate, valid], dim=1)
        key_bias = ((1.0 - key_ok) * -1e4).reshape(b, 1, 1, -1)

        src = image_embeddings.flatten(2).transpose(1, 2)  # [B,g*g,C]
        pe = self.dense_pe
        t = tokens
        t = self.n1(t + self.self_attn(t, t, t, key_bias))
        t = self.n2(t + self.t2i(t + tokens, src + pe, src))
        t = self.n3(t + self.mlp(t))
        src = self.n4(src + self.i2t(src + pe, t + tokens, t, key_bias))
        t = self.n5(t + self.final_t2i(t + tokens, src + pe, src))

        feat = self.up(src.transpose(1, 2).reshape(b, ch, gh, gw))  # [B,8,4g,4g]
        hyper = self.hyper(t[:, 1, :])  # [B,8]
        mask_logits = (hyper.unsqueeze(1) @ feat.flatten(2)).reshape(b, 1, 4 * gh, 4 * gw)
        score = torch.sigmoid(self.iou_head(t[:, 0, :])).reshape(-1)
        return mask_logits, score


class TinyModel(nn.Module):
    def __init__(self, c=CONFIG):
        super().__init__()
        self.vision = Vision(c)
        self.prompt = Prompt(c)
        self.embed = Embed(c)
        self.decoder = DecoderCore(c)
        self.grounding = Grounding(c)
        self.pixel = Pixel(c)
