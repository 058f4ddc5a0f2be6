import { parseAnswer } from '../chat/answerText.js';
import { useStore } from '../stores/createStore.js';
import { caseStore, objectNames } from '../stores/caseStore.js';
import { focusMask } from '../stores/mapStore.js';
import { colourOf } from '../../../main/contract/objectStyle.js';

/**
 * Assistant prose with grounded phrases highlighted and each <SEG> shown as a chip that shows its mask on the map.
 * A chip is named like the object list names the mask (objectStyle.ts objectLabel: the analyst's label, its phrase,
 * else its question); a deleted mask's chip says so.
 */
export function AssistantText({ turnId, text }: { turnId: string; text: string }) {
  const masks = useStore(caseStore, (s) => s.masks);
  const names = useStore(caseStore, objectNames);
  const parts = parseAnswer(text);
  return (
    <div className="answer-text">
      {parts.map((p, i) => {
        if (p.kind === 'text') return <span key={i}>{p.text}</span>;
        if (p.kind === 'phrase') return <mark key={i} className="phrase">{p.text}</mark>;
        // the answer's n-th <SEG> is the mask it made n-th (deleted ones counted: a deleted mask's chip says so)
        const turnMasks = masks.filter((m) => m.turnId === turnId);
        const mask = turnMasks.some((m) => m.ordinal !== undefined) ? turnMasks.find((m) => m.ordinal === p.index) : turnMasks[p.index];
        const caseIndex = mask ? masks.indexOf(mask) : -1;
        const name = mask ? (names.get(mask.id) ?? '') : '';
        return (
          <button
            key={i}
            type="button"
            className="mask-chip"
            data-testid="mask-chip"
            disabled={!mask}
            aria-label={mask ? `Show ${name} on the map` : 'Mask not available'}
            title={mask ? `${name} · ${Math.round(mask.areaPx)} px²` : 'no mask for this marker (none was made, or it was deleted)'}
            onClick={() => mask && focusMask(mask.id)}
          >
            <span className="chip-swatch" style={mask ? { background: colourOf(mask, caseIndex) } : undefined} />
            {mask ? name : 'no mask'}
          </button>
        );
      })}
    </div>
  );
}
