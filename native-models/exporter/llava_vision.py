"""The `vision` stage of LLaVA-1.5-style checkpoints (LLaVA-1.5 7B/13B, GeoChat): CLIP vision tower + mm_projector.

LlavaVision   Hugging Face CLIPVisionModel architecture (class token + bias-free patch conv + learned positions,
              pre_layrnorm, pre-norm encoder layers with biased q/k/v/out projections and a quick-GELU MLP;
              `post_layernorm` is held so checkpoints load strictly, but LLaVA never applies it), followed by
              LLaVA's feature selection — the hidden state after `mm_vision_select_layer` (−2: the output of the
              penultimate encoder layer; k ≥ 0: after k layers, 0 = the pre-layernormed embeddings, as HF's
              `hidden_states[k]`), `patch` features (CLS dropped) — and the projector (`mlp2x_gelu`:
              Linear(width→D), GELU, Linear(D→D); `mlpNx_gelu`; `linear`).
              pixel_values [V,3,S,S] -> visual_tokens [V,N,D], N = (S/patch)^2: 576 at 336 px, no 2x2 merge.
load_llava_vision(vision_dir, llava_dir, module=None)
              The tower from an HF CLIP folder (config.json + safetensors/bin; a CLIPVisionModel or a full CLIPModel
              whose text_model.* / projections are ignored), or embedded in the LLaVA checkpoint under
              `model.vision_tower.vision_tower.vision_model.*` (vision_dir None or equal to llava_dir); the
              projector `model.mm_projector.*` from the LLaVA checkpoint (sharded safetensors / pytorch_model*.bin
              via checkpoints.py, or a stand-alone mm_projector.bin). Strict: a missing, unexpected or mis-shaped
              tensor is refused by name. bf16 / fp16 become fp32.
GeoChat       (`model_type: geochat` in config.json) runs the 336-px CLIP at 504 px: its CLIPVisionTower resizes the
              24x24 position table to 36x36 bicubically (align_corners=True, CLS row kept) -> 1296 tokens per view.
              The same is done here, so a GeoChat pack's view is 504 px / 1296 tokens.
"""
import glob
import json
import math
import os
import re
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from checkpoints import read_checkpoint_dir  # noqa: E402

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
GEOCHAT_SIZE = 504  # geochat/model/multimodal_encoder/clip_encoder.py: clip_interpolate_embeddings(image_size=504)
TOWER_IN_LLAVA = "model.vision_tower.vision_tower."  # + vision_model.*
# transformers' CLIPVisionConfig defaults (old CLIPConfig files leave some vision fields out)
CLIP_DEFAULTS = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
                 "image_size": 224, "patch_size": 32, "hidden_act": "quick_gelu", "layer_norm_eps": 1e-5}


# ------------------------------------------------------------------------------------------------------- module
class ClipEmbeddings(nn.Module):
    def __init__(self, w, patch, grid):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.zeros(w))
        self.patch_embedding = nn.Conv2d(3, w, patch, stride=patch, bias=False)
        self.position_embedding = nn.Embedding(grid * grid + 1, w)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)  # [V, g*g, w]
        cls = self.class_embedding.reshape(1, 1, -1).expand(x.shape[0], 1, -1)
        return torch.cat([cls, x], dim=1) + self.position_embedding.weight


class ClipAttention(nn.Module):
    def __init__(self, w, heads):
        super().__init__()
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj, self.out_proj = (nn.Linear(w, w) for _ in range(4))

    def forward(self, x):
        n, w = x.shape[1], x.shape[2]
        hd = w // self.heads
        split = lambda t: t.reshape(-1, n, self.heads, hd).transpose(1, 2)  # noqa: E731
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        att = torch.softmax((q * hd ** -0.5) @ k.transpose(-1, -2), dim=-1)
        return self.out_proj((att @ v).transpose(1, 2).reshape(-1, n, w))


class ClipMlp(nn.Module):
    def __init__(self, w, mlp, act):
        super().__init__()
        self.act = act
        self.fc1, self.fc2 = nn.Linear(w, mlp), nn.Linear(mlp, w)

    def forward(self, x):
        h = self.fc1(x)
        h = h * torch.sigmoid(1.702 * h) if self.act == "quick_gelu" else F.gelu(h)
        return self.fc2(h)


class ClipLayer(nn.Module):
    def __init__(self, w, heads, mlp, eps, act):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(w, eps=eps)
        self.self_attn = ClipAttention(w, heads)
        self.layer_norm2 = nn.LayerNorm(w, eps=eps)
        self.mlp = ClipMlp(w, mlp, act)

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class ClipEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([ClipLayer(c["width"], c["heads"], c["mlp"], c["eps"], c["act"])
                                     for _ in range(c["layers"])])


class ClipVisionTransformer(nn.Module):
    """Parameter names = transformers' CLIPVisionModel.vision_model, so checkpoint keys map one to one."""

    def __init__(self, c):
        super().__init__()
        w = c["width"]
        self.embeddings = ClipEmbeddings(w, c["patch"], c["image_size"] // c["patch"])
        self.pre_layrnorm = nn.LayerNorm(w, eps=c["eps"])
        self.encoder = ClipEncoder(c)
        self.post_layernorm = nn.LayerNorm(w, eps=c["eps"])  # in every checkpoint; unused by LLaVA


def projector_depth(kind):
    if kind == "linear":
        return 0
    m = re.match(r"^mlp(\d+)x_gelu$", kind or "")
    if not m:
        raise SystemExit(f"mm_projector_type {kind!r} is not supported (linear or mlpNx_gelu, e.g. mlp2x_gelu)")
    return int(m.group(1))


def run_layers(c):
    """Encoder layers to run for mm_vision_select_layer (HF hidden_states index: 0 = embeddings, -1 = last)."""
    k = c["select_layer"]
    n = k if k >= 0 else c["layers"] + 1 + k
    if not 0 <= n <= c["layers"]:
        raise SystemExit(f"mm_vision_select_layer {k} is out of range for a {c['layers']}-layer tower")
    return n


class LlavaVision(nn.Module):
    """pixel_values [V,3,S,S] -> visual_tokens [V,N,D]: CLIP tower, LLaVA feature selection, mm_projector."""

    def __init__(self, c):
        super().__init__()
        if c["image_size"] % c["patch"] or c["width"] % c["heads"]:
            raise SystemExit(f"CLIP geometry: image {c['image_size']} / patch {c['patch']}, width {c['width']} / "
                             f"heads {c['heads']} must divide")
        if c["act"] not in ("quick_gelu", "gelu"):
            raise SystemExit(f"CLIP hidden_act {c['act']!r} is not supported (quick_gelu, gelu)")
        if c["select_feature"] not in ("patch", "cls_patch"):
            raise SystemExit(f"mm_vision_select_feature {c['select_feature']!r} is not supported (patch, cls_patch)")
        self.cfg = dict(c)
        self.n_run = run_layers(c)
        self.vision_model = ClipVisionTransformer(c)
        depth = projector_depth(c["projector"])
        if depth == 0:
            self.mm_projector = nn.Linear(c["width"], c["hidden"])
        else:
            mods = [nn.Linear(c["width"], c["hidden"])]
            for _ in range(1, depth):
                mods += [nn.GELU(), nn.Linear(c["hidden"], c["hidden"])]
            self.mm_projector = nn.Sequential(*mods)

    def forward(self, pixel_values):
        vm = self.vision_model
        x = vm.pre_layrnorm(vm.embeddings(pixel_values))
        for layer in vm.encoder.layers[: self.n_run]:
            x = layer(x)
        if self.cfg["select_feature"] == "patch":
            x = x[:, 1:]
        return self.mm_projector(x)


# ------------------------------------------------------------------------------------------------------- loader
def _json(path):
    with open(path) as f:
        return json.load(f)


def _llava_tensors(llava_dir, keep):
    files = glob.glob(os.path.join(llava_dir, "*.safetensors")) + glob.glob(os.path.join(llava_dir, "pytorch_model*.bin"))
    t = read_checkpoint_dir(llava_dir, keep) if files else {}
    extra = os.path.join(llava_dir, "mm_projector.bin")  # LLaVA's stage-1 output holds the projector alone
    if not any(k.startswith("model.mm_projector.") for k in t) and os.path.exists(extra):
        t.update({k: v.float().numpy() for k, v in torch.load(extra, map_location="cpu").items() if keep(k)})
    return t


def llava_vision_config(vision_dir, llava_dir):
    """-> (config dict for LlavaVision, {checkpoint name: fp32 array} for its state dict, source label)."""
    lcfg_path = os.path.join(llava_dir, "config.json")
    if not os.path.exists(lcfg_path):
        raise SystemExit(f"{llava_dir}: no config.json (expected a LLaVA-1.5-style checkpoint folder)")
    lcfg = _json(lcfg_path)
    embedded = vision_dir is None or os.path.realpath(vision_dir) == os.path.realpath(llava_dir)
    want = lambda k: k.startswith("model.mm_projector.") or (embedded and k.startswith(TOWER_IN_LLAVA))  # noqa: E731
    lt = _llava_tensors(llava_dir, want)
    proj = {k[len("model."):]: v for k, v in lt.items() if k.startswith("model.mm_projector.")}
    if not proj:
        raise SystemExit(f"{llava_dir}: no model.mm_projector.* tensors (not a LLaVA-1.5-style checkpoint)")

    if embedded:
        tower = {k[len(TOWER_IN_LLAVA):]: v for k, v in lt.items() if k.startswith(TOWER_IN_LLAVA)}
        src, prefix = llava_dir, TOWER_IN_LLAVA
        if not tower:
            raise SystemExit(f"{llava_dir}: no {TOWER_IN_LLAVA}vision_model.* tensors; give the CLIP folder "
                             f"({lcfg.get('mm_vision_tower', 'openai/clip-vit-large-patch14-336')}) to --vision-tower")
        vc = {}
    else:
        cpath = os.path.join(vision_dir, "config.json")
        if not os.path.exists(cpath):
            raise SystemExit(f"{vision_dir}: no config.json (expected a Hugging Face CLIP folder)")
        vc = _json(cpath)
        vc = vc.get("vision_config", vc)  # CLIPConfig nests the vision part; CLIPVisionConfig is flat
        src, prefix = vision_dir, ""
        tower = read_checkpoint_dir(vision_dir, lambda k: k.startswith("vision_model."))
        if not tower:
            raise SystemExit(f"{vision_dir}: no vision_model.* tensors (not a CLIPVisionModel / CLIPModel checkpoint)")
    tower.pop("vision_model.embeddings.position_ids", None)  # a buffer older transformers saved

    def shape(k):
        if k not in tower:
            raise SystemExit(f"{src}: missing tensor {prefix}{k}")
        return tower[k].shape

    if embedded:  # no CLIP config beside it: the geometry from the tensors (CLIP ViTs use 64-wide heads)
        w = shape("vision_model.embeddings.class_embedding")[0]
        patch = shape("vision_model.embeddings.patch_embedding.weight")[-1]
        npos = shape("vision_model.embeddings.position_embedding.weight")[0]
        g = int(round(math.sqrt(npos - 1)))
        layer_ids = {int(m.group(1)) for k in tower for m in [re.match(r"vision_model\.encoder\.layers\.(\d+)\.", k)] if m}
        vc = {"hidden_size": w, "patch_size": patch, "image_size": g * patch, "num_attention_heads": max(1, w // 64),
              "num_hidden_layers": max(layer_ids) + 1 if layer_ids else 0,
              "intermediate_size": shape("vision_model.encoder.layers.0.mlp.fc1.weight")[0]}
    vc = {**CLIP_DEFAULTS, **{k: v for k, v in vc.items() if v is not None}}
    ckpt_size = vc["image_size"]
    geochat = lcfg.get("model_type") == "geochat"
    c = {"width": vc["hidden_size"], "mlp": vc["intermediate_size"], "layers": vc["num_hidden_layers"],
         "heads": vc["num_attention_heads"], "patch": vc["patch_size"], "ckpt_size": ckpt_size,
         "image_size": GEOCHAT_SIZE if geochat else ckpt_size, "eps": vc["layer_norm_eps"], "act": vc["hidden_act"],
         "select_layer": lcfg.get("mm_vision_select_layer", -2),
         "select_feature": lcfg.get("mm_vision_select_feature", "patch"),
         "projector": lcfg.get("mm_projector_type") or ("linear" if "mm_projector.weight" in proj else "mlp2x_gelu"),
         "hidden": lcfg.get("hidden_size") or proj[min(proj)].shape[0], "geochat": geochat}
    mm_hidden = lcfg.get("mm_hidden_size")
    if mm_hidden is not None and mm_hidden != c["width"]:
        raise SystemExit(f"{llava_dir}: mm_hidden_size {mm_hidden} != the CLIP tower's width {c['width']} ({src})")
    grid = c["image_size"] // c["patch"]
    c["tokens"] = grid * grid + (1 if c["select_feature"] == "cls_patch" else 0)
    pre = os.path.join(vision_dir, "preprocessor_config.json") if vision_dir else ""
    pp = _json(pre) if pre and os.path.exists(pre) else {}
    c["mean"], c["std"] = pp.get("image_mean", CLIP_MEAN), pp.get("image_std", CLIP_STD)
    # LLaVA-1.5 / GeoChat process_images: "pad" = expand2square with the mean colour (else the processor's centre
    # crop, which a view cannot express: the whole image is then stretched to the view)
    c["pad"] = "square" if lcfg.get("image_aspect_ratio") == "pad" else "none"
    named = {**{prefix + k: v for k, v in tower.items()}, **{"model." + k: v for k, v in proj.items()}}
    return c, named, (src, prefix)


def resize_positions(pe, grid):
    """CLIP position table [1+g*g, w] -> [1+grid*grid, w]: bicubic, align_corners=True, CLS row kept (GeoChat)."""
    g = int(round(math.sqrt(pe.shape[0] - 1)))
    if g == grid:
        return pe
    img = pe[1:].reshape(g, g, -1).permute(2, 0, 1)[None]
    img = F.interpolate(img, size=grid, mode="bicubic", align_corners=True)[0].permute(1, 2, 0).reshape(grid * grid, -1)
    return torch.cat([pe[:1], img], dim=0)


def load_llava_vision(vision_dir, llava_dir, module=None):
    """Loads the CLIP tower (vision_dir: HF CLIP folder; None = embedded in llava_dir) and the mm_projector
    (llava_dir) strictly into `module` (built from the checkpoints' config when None); returns the module in eval
    mode, its config in module.cfg."""
    c, named, (src, prefix) = llava_vision_config(vision_dir, llava_dir)
    if module is None:
        module = LlavaVision(c)
    else:
        for k in ("width", "mlp", "layers", "heads", "patch", "image_size", "select_layer", "projector", "hidden"):
            if module.cfg.get(k) != c[k]:
                raise SystemExit(f"LlavaVision {k} {module.cfg.get(k)} != the checkpoint's {c[k]}")
        module.cfg.update(c)
    own = module.state_dict()
    pos = "vision_model.embeddings.position_embedding.weight"
    ckpt_name = lambda k: ("model." + k) if k.startswith("mm_projector.") else prefix + k  # noqa: E731
    sd = {}
    for k, want in own.items():
        name = ckpt_name(k)
        if name not in named:
            where = llava_dir if k.startswith("mm_projector.") else src
            raise SystemExit(f"{where}: missing tensor {name}")
        v = torch.from_numpy(np.array(named[name], dtype=np.float32))
        expect = (c["ckpt_size"] // c["patch"]) ** 2 + 1 if k == pos else None
        exp_shape = (expect, c["width"]) if expect else tuple(want.shape)
        if tuple(v.shape) != exp_shape:
            where = llava_dir if k.startswith("mm_projector.") else src
            raise SystemExit(f"{where}: tensor {name} has shape {list(v.shape)}, expected {list(exp_shape)}")
        sd[k] = resize_positions(v, c["image_size"] // c["patch"]) if k == pos else v
    extra = sorted(set(named) - {ckpt_name(k) for k in own})
    if extra:
        raise SystemExit(f"unexpected tensors for a {c['layers']}-layer CLIP tower + {c['projector']} projector: "
                         f"{', '.join(extra[:5])}{' …' if len(extra) > 5 else ''}")
    module.load_state_dict(sd, strict=True)
    return module.eval()


def export_vision(module, path):
    """The contract `vision` stage: pixel_values [V,3,S,S] -> visual_tokens [V,N,D], V dynamic (opset 14, fp32)."""
    import inspect

    kw = dict(opset_version=14, do_constant_folding=True)
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:  # torch >= 2.9 defaults to the dynamo exporter
        kw["dynamo"] = False
    S = module.cfg["image_size"]
    torch.onnx.export(module.eval(), (torch.randn(2, 3, S, S),), path, input_names=["pixel_values"],
                      output_names=["visual_tokens"], dynamic_axes={"pixel_values": {0: "V"}, "visual_tokens": {0: "V"}},
                      **kw)
