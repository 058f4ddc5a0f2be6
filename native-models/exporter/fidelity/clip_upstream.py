"""Imports the upstream LLaVA / GeoChat modules by path (used only by the fixture makers, never by CI).

Both repositories' package __init__ files import their LLaMA model classes (unrelated to the vision tower and
written for transformers 4.31); they are bypassed by registering the package folders as bare packages, so the
modules below run exactly as published, unmodified:
  llava.model.multimodal_encoder.clip_encoder, llava.model.multimodal_projector.builder, llava.mm_utils
  geochat.model.multimodal_encoder.clip_encoder, geochat.model.multimodal_projector.builder, geochat.mm_utils
With transformers >= 5 (the one installable here; both repositories pin 4.31) their clip_encoder gets
CLIPVisionModel431 in place of the name CLIPVisionModel: the same model under 4.31's attribute layout.
"""
import importlib
import os
import subprocess
import sys
import types

import torch
import transformers


def bare_packages(root, name):
    """Registers NAME and its subpackages under ROOT as packages whose __init__ is not run."""
    for dirpath, _dirs, files in os.walk(os.path.join(root, name)):
        if "__init__.py" not in files:
            continue
        pkg = os.path.relpath(dirpath, root).replace(os.sep, ".")
        m = types.ModuleType(pkg)
        m.__path__ = [dirpath]
        sys.modules[pkg] = m


class CLIPVisionModel431(torch.nn.Module):
    """transformers 4.31's CLIPVisionModel layout, which GeoChat's clip_encoder.py addresses
    (`vision_tower.vision_model.embeddings...`): transformers 5 flattened the vision transformer into CLIPVisionModel
    itself. This holds transformers 5's CLIPVisionModel under `.vision_model` and forwards to it; nothing else
    differs (embeddings still add position_embedding(position_ids), which GeoChat replaces)."""

    @classmethod
    def from_pretrained(cls, path, **kw):
        m = cls()
        m.vision_model = transformers.CLIPVisionModel.from_pretrained(path, **kw)
        m.config = m.vision_model.config
        return m

    def forward(self, pixel_values, output_hidden_states=False):
        return self.vision_model(pixel_values, output_hidden_states=output_hidden_states)

    @property
    def dtype(self):
        return self.vision_model.dtype

    @property
    def device(self):
        return self.vision_model.device


def load(root, name):
    """-> dict of the upstream modules of repository checkout ROOT (package NAME: 'llava' or 'geochat')."""
    bare_packages(root, name)
    mods = {"clip_encoder": importlib.import_module(f"{name}.model.multimodal_encoder.clip_encoder"),
            "projector": importlib.import_module(f"{name}.model.multimodal_projector.builder"),
            "mm_utils": importlib.import_module(f"{name}.mm_utils")}
    if not hasattr(transformers.CLIPVisionModel(transformers.CLIPVisionConfig(num_hidden_layers=0)), "vision_model"):
        mods["clip_encoder"].CLIPVisionModel = CLIPVisionModel431  # transformers >= 5 (see the class)
    return mods


def checkout(mirror, dest, name):
    """git archive of folder NAME at a bare mirror's HEAD (made by the `fetch` tool) into DEST -> commit id."""
    commit = subprocess.check_output(["git", "--git-dir", mirror, "rev-parse", "HEAD"], text=True).strip()
    if not os.path.isdir(os.path.join(dest, name)):
        os.makedirs(dest, exist_ok=True)
        arch = subprocess.run(["git", "--git-dir", mirror, "archive", commit, name], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", dest], input=arch, check=True)
    return commit
