import { spawnSync } from 'node:child_process';
import { describeRequiring } from './data.js';

/** The interpreter the exporter's tests run: Debian's, where `apt install python3-torch python3-onnx` puts them. */
export const python = '/usr/bin/python3';

let torchMissing: string | null | undefined;

/**
 * A describe block of exporter checks that need PyTorch: skipped with a message locally when python3 cannot import
 * torch, onnx and numpy, failing under CI (CI=true), which installs them (.ci/run).
 */
export function describeWithTorch(name: string, body: () => void): void {
  torchMissing ??= spawnSync(python, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' }).status === 0
    ? null
    : `${python} cannot import torch, onnx and numpy (apt install python3-torch python3-onnx)`;
  describeRequiring(name, torchMissing, body);
}
