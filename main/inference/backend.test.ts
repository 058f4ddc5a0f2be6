import { describe, expect, it } from 'vitest';
import { probeProviders, SessionFactory, shortOrtError } from './backend.js';

describe('probeProviders', () => {
  it('lists the ladder cuda → webgpu → cpu, each unavailable one with a reason', () => {
    const p = probeProviders();
    expect(p.map((s) => s.name)).toEqual(['cuda', 'webgpu', 'cpu']);
    expect(p.find((s) => s.name === 'cpu')).toEqual({ name: 'cpu', available: true, reason: null });
    for (const s of p) if (!s.available) expect(s.reason).toMatch(/\w{6,}/);
  });

  it('skips WebGPU unless an adapter is known or it is forced (adapter discovery can block the thread)', () => {
    expect(probeProviders().find((s) => s.name === 'webgpu')?.reason).toMatch(/no GPU adapter reported/);
    expect(probeProviders({ webgpuAdapterKnown: true }).find((s) => s.name === 'webgpu')?.available).toBe(true);
    expect(probeProviders({ forced: 'webgpu' }).find((s) => s.name === 'webgpu')?.available).toBe(true);
  });

  it('a WebGPU probe that found no hardware adapter is named in WebGPU\'s reason', () => {
    const w = probeProviders({ webgpuAdapterKnown: false, webgpuReason: 'only software Vulkan drivers (lvp_icd.x86_64.json)' }).find((s) => s.name === 'webgpu')!;
    if (w.reason === 'this onnxruntime-node build has no WebGPU provider') return;
    expect(w).toEqual({ name: 'webgpu', available: false, reason: 'no GPU adapter reported by the host (only software Vulkan drivers (lvp_icd.x86_64.json)) (set VANTAGE_EP=webgpu to try it anyway)' });
  });

  it('VANTAGE_EP=cpu leaves only the CPU, saying why for the others', () => {
    const p = probeProviders({ forced: 'CPU' });
    expect(p.filter((s) => s.available).map((s) => s.name)).toEqual(['cpu']);
    expect(p.find((s) => s.name === 'cuda')?.reason).toBe('not selected (VANTAGE_EP=cpu)');
  });

  it('an unknown VANTAGE_EP is refused with the valid options', () => {
    expect(() => probeProviders({ forced: 'tpu' })).toThrow(/VANTAGE_EP="tpu" is not an execution provider; use one of cuda, webgpu, cpu/);
  });

  it('a forced provider that cannot work fails loudly instead of silently running elsewhere', () => {
    const cuda = probeProviders().find((s) => s.name === 'cuda')!;
    if (cuda.available) return; // a machine with the CUDA provider installed cannot show this
    expect(() => new SessionFactory({ forced: 'cuda' })).toThrow(/VANTAGE_EP=cuda cannot be used: CUDA provider/);
  });
});

describe('shortOrtError', () => {
  it('drops onnxruntime\'s source-file preamble and keeps the cause', () => {
    const raw =
      'CUDA session: /onnxruntime_src/onnxruntime/core/session/provider_bridge_ort.cc:1988 onnxruntime::Provider& onnxruntime::ProviderLibrary::Get() [ONNXRuntimeError] : 1 : FAIL : Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file\nmore';
    expect(shortOrtError(raw)).toBe('Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file');
    expect(shortOrtError('plain message\nsecond line')).toBe('plain message');
  });
});
