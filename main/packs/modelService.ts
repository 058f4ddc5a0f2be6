import type { ModelStatus, PackInfo } from '../contract/index.js';
import { VantageError } from '../contract/errors.js';
import type { InferencePort } from '../chat/inferencePort.js';

/** Which pack is loaded and how it runs. Loading is serialised: concurrent callers share one load. */
export class ModelService {
  private loading: Promise<void> | null = null;

  constructor(private readonly host: InferencePort, private readonly packDir: string, private readonly builtin: boolean) {}

  /** Starts loading in the background (app start-up) without failing the caller. */
  warmUp(): void {
    this.ensureReady().catch(() => {});
  }

  ensureReady(): Promise<void> {
    if (!this.loading) {
      this.loading = this.host.loadPack(this.packDir).then(
        () => undefined,
        (err: unknown) => {
          this.loading = null;
          throw VantageError.from(err);
        },
      );
    }
    return this.loading;
  }

  status(): ModelStatus {
    const s = this.host.status();
    return s.pack ? { ...s, pack: { ...s.pack, builtin: this.builtin } } : s;
  }

  list(): PackInfo[] {
    const pack = this.status().pack;
    return pack ? [pack] : [];
  }
}
