"""Full-size image stages for the 7b-class pack (the test pack's model.py has tiny stand-ins).

VitVision   `vision`: ViT-L/14-class tower (CLIP-style pre-norm blocks, quick-GELU) at view_size px, 2x2 patch
            merge (concat + linear, as model.py's Vision) and a 2-layer GELU projector (LLaVA-1.5's mm_projector
            shape) -> [V, (S/14/2)^2, D]; 448 px -> 32x32 patches -> 256 tokens per view.
SamEncoder  `grounding`: SAM's ImageEncoderViT (ViT-B: width 768, 12 blocks, 12 heads, 14x14 windowed attention
            with global attention in blocks 2, 5, 8, 11, decomposed relative positions, conv neck to 256
            channels) with segment_anything's parameter names, so the `image_encoder.*` tensors of a SAM
            checkpoint (sam_vit_b/l/h_*.pth) load with load_sam_image_encoder(). At 448 px the grid is 28x28;
            the checkpoint's 64x64 absolute position embedding is resized bicubically and the relative-position
            tables are resized linearly (segment_anything's own get_rel_pos rule).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


# --------------------------------------------------------------------------------------------------- ViT-L vision
class ClipBlock(nn.Module):
    def __init__(self, w, heads, mlp):
        super().__init__()
        self.heads = heads
        self.layer_norm1 = nn.LayerNorm(w)
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(w, w), nn.Linear(w, w), nn.Linear(w, w)
        self.out_proj = nn.Linear(w, w)
        self.layer_norm2 = nn.LayerNorm(w)
        self.fc1, self.fc2 = nn.Linear(w, mlp), nn.Linear(mlp, w)

    def forward(self, x):
        n, w = x.shape[1], x.shape[2]
        hd = w // self.heads
        h = self.layer_norm1(x)
        split = lambda t: t.reshape(-1, n, self.heads, hd).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(h)), split(self.k_proj(h)), split(self.v_proj(h))
        att = torch.softmax(q @ k.transpose(-1, -2) * (hd ** -0.5), dim=-1)
        x = x + self.out_proj((att @ v).transpose(1, 2).reshape(-1, n, w))
        h = self.fc1(self.layer_norm2(x))
        return x + self.fc2(h * torch.sigmoid(1.702 * h))  # quick-GELU, as CLIP


class VitVision(nn.Module):
    def __init__(self, c):
        super().__init__()
        w, p = c["vision_width"], c["patch"]
        self.grid = c["view_size"] // p
        self.patch_embedding = nn.Conv2d(3, w, p, stride=p, bias=False)
        self.position_embedding = nn.Parameter(torch.randn(1, self.grid * self.grid, w) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(w)
        self.layers = nn.ModuleList([ClipBlock(w, c["vision_heads"], c["vision_mlp"]) for _ in range(c["vision_layers"])])
        self.merge = nn.Linear(4 * w, c["hidden"])
        self.proj = nn.Sequential(nn.GELU(), nn.Linear(c["hidden"], c["hidden"]))

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values)  # [V,w,g,g]
        w, g2 = x.shape[1], self.grid // 2
        x = self.pre_layrnorm(x.flatten(2).transpose(1, 2) + self.position_embedding)
        for layer in self.layers:
            x = layer(x)
        x = x.reshape(-1, g2, 2, g2, 2, w).permute(0, 1, 3, 2, 4, 5).reshape(-1, g2 * g2, 4 * w)
        return self.proj(self.merge(x))


# ------------------------------------------------------------------------------------------------ SAM image encoder
def get_rel_pos(q_size, k_size, rel_pos):
    dist = 2 * max(q_size, k_size) - 1
    if rel_pos.shape[0] != dist:
        rel_pos = F.interpolate(rel_pos.reshape(1, rel_pos.shape[0], -1).permute(0, 2, 1), size=dist, mode="linear")
        rel_pos = rel_pos.reshape(-1, dist).permute(1, 0)
    q = torch.arange(q_size)[:, None] * max(k_size / q_size, 1.0)
    k = torch.arange(k_size)[None, :] * max(q_size / k_size, 1.0)
    rel = (q - k) + (k_size - 1) * max(q_size / k_size, 1.0)
    return rel_pos[rel.long()]


class SamAttention(nn.Module):
    def __init__(self, dim, heads, size):
        super().__init__()
        self.heads = heads
        hd = dim // heads
        self.scale = hd ** -0.5
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)
        self.rel_pos_h = nn.Parameter(torch.zeros(2 * size - 1, hd))
        self.rel_pos_w = nn.Parameter(torch.zeros(2 * size - 1, hd))

    def forward(self, x):
        b, h, w, _ = x.shape  # b = windows (or 1)
        qkv = self.qkv(x).reshape(b, h * w, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.heads, h * w, -1).unbind(0)
        att = (q * self.scale) @ k.transpose(-2, -1)
        rh, rw = get_rel_pos(h, h, self.rel_pos_h), get_rel_pos(w, w, self.rel_pos_w)
        rq = q.reshape(b * self.heads, h, w, -1)
        rel_h = torch.einsum("bhwc,hkc->bhwk", rq, rh)
        rel_w = torch.einsum("bhwc,wkc->bhwk", rq, rw)
        att = (att.reshape(-1, h, w, h, w) + rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]).reshape(-1, h * w, h * w)
        y = (att.softmax(dim=-1) @ v).reshape(b, self.heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
        return self.proj(y)


class MLPBlock(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.lin1, self.lin2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return self.lin2(F.gelu(self.lin1(x)))


class SamBlock(nn.Module):
    def __init__(self, dim, heads, window, grid):
        super().__init__()
        self.window = window
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = SamAttention(dim, heads, window if window else grid)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = MLPBlock(dim, dim * 4)

    def forward(self, x):
        s = x
        x = self.norm1(x)
        if self.window:
            _, h, w, c = x.shape
            ws = self.window
            # segment_anything's window_partition: zero-pad the grid to a multiple of the window (e.g. 336 px / 16
            # = 21 → 28), attend within windows (padding included, unmasked, as SAM does), crop back
            ph, pw = (ws - h % ws) % ws, (ws - w % ws) % ws
            if ph or pw:
                x = F.pad(x, (0, 0, 0, pw, 0, ph))
            hp, wp = h + ph, w + pw
            x = x.reshape(-1, hp // ws, ws, wp // ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws, ws, c)
            x = self.attn(x)
            x = x.reshape(-1, hp // ws, wp // ws, ws, ws, c).permute(0, 1, 3, 2, 4, 5).reshape(-1, hp, wp, c)
            x = x[:, :h, :w, :]
        else:
            x = self.attn(x)
        x = s + x
        return x + self.mlp(self.norm2(x))


class LayerNorm2d(nn.Module):
    def __init__(self, ch, eps=1e-6):
        super().__init__()
        self.weight, self.bias, self.eps = nn.Parameter(torch.ones(ch)), nn.Parameter(torch.zeros(ch)), eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        return self.weight[:, None, None] * ((x - u) / torch.sqrt(s + self.eps)) + self.bias[:, None, None]


class PatchEmbed(nn.Module):
    def __init__(self, p, dim):
        super().__init__()
        self.proj = nn.Conv2d(3, dim, p, stride=p)


class SamEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        dim, p = c["g_width"], c["g_patch"]
        self.grid = c.get("g_size", c["view_size"]) // p  # the grounding input's own side (SAM: 1024)
        win = c.get("g_window", 14)
        glob = c.get("g_global", [2, 5, 8, 11])
        self.patch_embed = PatchEmbed(p, dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, self.grid, self.grid, dim))
        self.blocks = nn.ModuleList([SamBlock(dim, c["g_heads"], 0 if i in glob else win, self.grid)
                                     for i in range(c["g_layers"])])
        ch = c["g_channels"]
        self.neck = nn.Sequential(nn.Conv2d(dim, ch, 1, bias=False), LayerNorm2d(ch),
                                  nn.Conv2d(ch, ch, 3, padding=1, bias=False), LayerNorm2d(ch))

    def forward(self, pixel_values):
        x = self.patch_embed.proj(pixel_values).permute(0, 2, 3, 1) + self.pos_embed
        for blk in self.blocks:
            x = blk(x)
        return self.neck(x.permute(0, 3, 1, 2))


def load_sam_image_encoder(path, module):
    """Loads the `image_encoder.*` tensors of a segment_anything checkpoint (.pth state dict) into SamEncoder,
    resizing pos_embed to this grid; the relative-position tables are resized in forward (get_rel_pos)."""
    sd = torch.load(path, map_location="cpu")
    enc = {k[len("image_encoder."):]: v.float() for k, v in sd.items() if k.startswith("image_encoder.")}
    if not enc:
        raise SystemExit(f"{path} has no image_encoder.* tensors (not a segment_anything checkpoint)")
    pe = enc["pos_embed"]
    g = module.grid
    if pe.shape[1] != g:
        enc["pos_embed"] = F.interpolate(pe.permute(0, 3, 1, 2), size=(g, g), mode="bicubic",
                                         align_corners=False).permute(0, 2, 3, 1)
    own = module.state_dict()
    for k, v in list(enc.items()):  # rel-pos tables keep the checkpoint's length; forward resizes them
        if k.endswith(("rel_pos_h", "rel_pos_w")) and k in own and own[k].shape != v.shape:
            *parents, leaf = k.split(".")
            target = module
            for part in parents:
                target = getattr(target, part)
            setattr(target, leaf, nn.Parameter(torch.zeros_like(v)))
    module.load_state_dict(enc, strict=True)
    return module


def param_count(m):
    return sum(p.numel() for p in m.parameters())

