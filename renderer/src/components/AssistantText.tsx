import { parseAnswer } from '../chat/answerText.js';
import { useStore } from '../stores/createStore.js';
import { caseStore } from '../stores/caseStore.js';
import { focusMask } from '../stores/mapStore.js';
import { objectColour, objectName } from '../../../main/contract/objectStyle.js';

/**
 * Assistant prose with grounded phrases highlighted and each <SEG> shown as a chip that shows its mask on the map.
 * A chip is named like the object list names the mask: its phrase, else "object N" numbered over the case.
 */
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
        const caseIndex = mask ? masks.indexOf(mask) : -1;
        const name = mask ? objectName(mask.phrase, caseIndex) : '';
        return (
          <button
            key={i}
            type="button"
            className="mask-chip"
            data-testid="mask-chip"
            disabled={!mask}
            aria-label={mask ? `Show ${name} on the map` : 'Mask not available'}
            title={mask ? `${name} · ${Math.round(mask.areaPx)} px²` : 'no mask for this marker'}
            onClick={() => mask && focusMask(mask.id)}
          >
            <span className="chip-swatch" style={caseIndex >= 0 ? { background: objectColour(caseIndex) } : undefined} />
            {mask ? name : 'mask'}
          </button>
        );
      })}
    </div>
  );
}
