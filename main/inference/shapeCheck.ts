import type * as ort from 'onnxruntime-node';
import { VantageError } from '../contract/errors.js';
import type { PackManifest, StageName } from './packManifest.js';

type Dims = (number | null)[];

/**
 * The tensor shapes the manifest promises for each stage (null = symbolic), per PACK_CONTRACT.md. Checked
 * against the graphs' declared shapes at load, so a manifest that lies (view size, hidden size, mask size…)
 * is refused with the stage, tensor and axis named instead of failing deep inside onnxruntime on the first ask.
 */
function expectedShapes(m: PackManifest): Partial<Record<StageName, { inputs: Record<string, Dims>; outputs: Record<string, Dims> }>> {
  const S = m.view.size;
  const N = m.view.tokens;
  const D = m.llm?.hidden ?? null;
  const g = m.grounding;
  const out: ReturnType<typeof expectedShapes> = {
    vision: { inputs: { pixel_values: [null, 3, S, S] }, outputs: { visual_tokens: [null, N, D] } },
    prompt: { inputs: { visual_tokens: [null, N, D], region_masks: [null, S, S] }, outputs: { region_embeds: [null, D] } },
    embed: { inputs: { input_ids: [1, null] }, outputs: { inputs_embeds: [1, null, D] } },
    decoder: {
      inputs: { inputs_embeds: [1, null, D] },
      outputs: { logits: [null, null, m.llm?.vocab ?? null], hidden_states: [null, null, D] },
    },
  };
  if (m.llm) out.decoder!.inputs['past_key_values.0.key'] = [1, m.llm.kvHeads, null, m.llm.headDim];
  if (g) {
    const G = g.size ?? S; // the grounding stage's own input side (SAM packs: 1024)
    out.grounding = { inputs: { pixel_values: [1, 3, G, G] }, outputs: { image_embeddings: [1, g.channels, g.grid, g.grid] } };
    const M = m.pixel?.maskSize ?? null;
    out.pixel = { inputs: { image_embeddings: [1, g.channels, g.grid, g.grid], seg_hidden: [1, D] }, outputs: { mask_logits: [1, 1, M, M] } };
  }
  return out;
}

function declared(meta: readonly ort.InferenceSession.ValueMetadata[], name: string): Dims | null {
  const m = meta.find((x) => x.name === name);
  if (!m || !m.isTensor) return null;
  return m.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : null));
}

/** The declared inputs/outputs of a graph: an onnxruntime-node session, or the native addon's (nativeMetadata). */
export interface GraphMetadata {
  inputMetadata: readonly ort.InferenceSession.ValueMetadata[];
  outputMetadata: readonly ort.InferenceSession.ValueMetadata[];
}

export function checkStageShapes(manifest: PackManifest, packName: string, stage: StageName, session: GraphMetadata): void {
  const want = expectedShapes(manifest)[stage];
  if (!want) return;
  const sides: ['input' | 'output', Record<string, Dims>, readonly ort.InferenceSession.ValueMetadata[]][] = [
    ['input', want.inputs, session.inputMetadata],
    ['output', want.outputs, session.outputMetadata],
  ];
  for (const [side, tensors, meta] of sides) {
    for (const [name, dims] of Object.entries(tensors)) {
      const got = declared(meta, name);
      if (!got) continue; // missing tensors are reported where they are fed/read, with the graph's real names
      if (got.length !== dims.length) {
        throw new VantageError('BAD_INPUT', `model pack "${packName}": ${stage} ${side} "${name}" has rank ${got.length} but the pack contract needs rank ${dims.length}; the pack is malformed`);
      }
      dims.forEach((w, axis) => {
        const d = got[axis];
        if (w !== null && d !== null && d !== undefined && d !== w) {
          throw new VantageError(
            'BAD_INPUT',
            `model pack "${packName}": manifest.json does not match the ${stage} graph — ${side} "${name}" axis ${axis} is ${d} in the graph but the manifest implies ${w}; fix the manifest or rebuild the pack`,
          );
        }
      });
    }
  }
}
