#!/usr/bin/python3
"""Signs a finished pack folder: writes manifest.sig (PACK_CONTRACT.md "Signature") with an Ed25519 private key.

  /usr/bin/python3 native-models/exporter/sign_pack.py PACK_DIR --key publisher.key

The signing format has one implementation, the app's (`vantage packs sign`, main/packs/packSignature.ts): this runs
it through the built CLI (`npm run build` first), which re-checks every sha256 in manifest.json before signing.
Make a key pair once with `npx vantage packs keygen publisher.key` and give publisher.key.pub to the analysts
(`vantage packs trust publisher.key.pub`).
"""
import argparse
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CLI = os.path.join(HERE, "..", "..", "main", "cli", "bin.mjs")


def sign_pack(pack_dir, key_file):
    """Runs `vantage packs sign PACK_DIR --key KEY_FILE`; raises SystemExit with the CLI's one-line message on failure."""
    node = shutil.which("node")
    if not node:
        raise SystemExit("sign_pack: node is not on PATH; signing runs the Vantage CLI (npm run build)")
    r = subprocess.run([node, CLI, "packs", "sign", os.path.abspath(pack_dir), "--key", os.path.abspath(key_file)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr.strip() or f"vantage packs sign failed ({r.returncode})")
    print(r.stdout.strip())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("pack_dir")
    ap.add_argument("--key", required=True, help="Ed25519 private key (PEM), from `vantage packs keygen`")
    a = ap.parse_args(argv)
    sign_pack(a.pack_dir, a.key)


if __name__ == "__main__":
    sys.exit(main())
