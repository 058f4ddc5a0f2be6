import { parseAnswer } from '../chat/answerText.js';
import { useStore } from '../stores/createStore.js';
import { caseStore } from '../stores/caseStore.js';
import { focusMask } from '../stores/mapStore.js';
import { maskColour } from './map/MaskLayers.js';

/** Assistant prose with grounded phrases highlighted and each <SEG> shown as a chip that shows its mask on the map. */
export function AssistantText({ turnId, text }: { turnId: string; text: string }) {
  const masks = useStore(caseStore, (s) => s.masks);
  const parts = parseAnswer(text);
  return (
    <div className="answer-text">
      {parts.map((p, i) => {
        if (p.kind === 'text') return <span key={i}>{p.text}</span>;
        if (p.kind === 'phrase') return <mark key={i} className="phrase">{p.text}</mark>;
        const turnMasks = masks.filter((m) => m.turnId === turnId);
        const mask = turnMasks[p.index];
        const colourIndex = mask ? masks.indexOf(mask) : -1;
        return (
          <button
            key={i}
            type="button"
            className="mask-chip"
            data-testid="mask-chip"
            disabled={!mask}
            aria-label={mask ? `Show mask ${mask.phrase ?? p.index + 1} on the map` : 'Mask not available'}
            title={mask ? `${mask.phrase ?? 'mask'} · ${Math.round(mask.areaPx)} px²` : 'no mask for this marker'}
            onClick={() => mask && focusMask(mask.id)}
          >
            <span className="chip-swatch" style={colourIndex >= 0 ? { background: maskColour(colourIndex) } : undefined} />
            mask {p.index + 1}
          </button>
        );
      })}
    </div>
  );
}
