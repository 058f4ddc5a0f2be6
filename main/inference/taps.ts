import type { StageTensors } from './protocol.js';

/**
 * Tensor taps: during a traced ask (`traceTensors`) every stage records its inputs and outputs here, for the golden
 * tests against the PyTorch reference. Null outside a traced ask, so the untraced path only pays a null check.
 */
export type Taps = Partial<StageTensors> & Pick<StageTensors, 'grounding_pixel_values' | 'image_embeddings' | 'mask_logits'>;

export class TapBox {
  current: Taps | null = null;

  /** runs `f` with fresh taps open and returns what `f` returned together with what the stages recorded */
  async around<R>(f: () => Promise<R>): Promise<{ result: R; tensors: StageTensors }> {
    const taps: Taps = { grounding_pixel_values: [], image_embeddings: [], mask_logits: [] };
    this.current = taps;
    try {
      return { result: await f(), tensors: taps as StageTensors };
    } finally {
      this.current = null;
    }
  }
}
