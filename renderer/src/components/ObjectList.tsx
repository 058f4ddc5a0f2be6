import { useEffect, useMemo, useRef, useState } from 'react';
import { caseStore, highlightMask, objectNames } from '../stores/caseStore.js';
import { useStore } from '../stores/createStore.js';
import { focusMask } from '../stores/mapStore.js';
import { formatArea, reportStore, toggleSelected } from '../stores/reportStore.js';
import { objectOpacity, objectViewStore, setObjectOpacity, toggleObjectHidden } from '../stores/objectViewStore.js';
import { deleteObject, dismissObjectUndo, objectEditStore, recolourObject, renameObject, undoDeleteObject } from '../stores/objectStore.js';
import { OBJECT_COLOURS, colourOf } from '../../../main/contract/objectStyle.js';
import type { MeasuredObject } from '../../../main/contract/calls/reports.js';
import { CLASSICAL_MASK_NOTE } from '../../../main/contract/calls/chat.js';

/** How long the Undo offer for a deleted object stays on screen (as for a deleted case). */
const UNDO_VISIBLE_MS = 15_000;

/**
 * The case's masks as measured objects: name, area, score, in the colour the map, the chat and the PDF give them.
 * Hover highlights the mask, click zooms to it; each can be hidden on the map or faded (view only), and renamed,
 * recoloured or deleted (with Undo) — those are kept in the case and every export follows.
 */
export function ObjectList() {
  const objects = useStore(reportStore, (s) => s.objects);
  const loading = useStore(reportStore, (s) => s.loading);
  const masks = useStore(caseStore, (s) => s.masks);
  const turns = useStore(caseStore, (s) => s.turns);
  const names = useStore(caseStore, objectNames);
  const focused = useStore(caseStore, (s) => s.focusedMaskId);
  const view = useStore(objectViewStore, (s) => s);
  const selected = useStore(reportStore, (s) => s.selected);
  // names (as the map and the chat give them: the list follows a rename before the objects are measured again) and
  // colours, once per change of the case's objects, not per row
  const looks = useMemo(() => {
    // a classical mask (no model pack) has no model score: its answer's provider says how it was made
    const classical = new Set(turns.filter((t) => t.provider === 'classical').map((t) => t.id));
    return new Map(masks.map((m, i) => [m.id, { name: names.get(m.id) ?? '', colour: colourOf(m, i), classical: classical.has(m.turnId) }]));
  }, [masks, names, turns]);
  // measured objects of masks still in the case, in the case's order (a deleted one leaves at once)
  const shown = objects.filter((o) => looks.has(o.maskId));

  return (
    <section className="object-list" aria-label="Objects" data-testid="object-list" aria-busy={loading}>
      <header className="section-header">
        <h2>Objects</h2>
        <span className="item-meta">{shown.length || ''}</span>
      </header>
      {shown.length === 0 && <p className="muted small">Masks from the answers appear here, measured.</p>}
      <ul className="item-list">
        {shown.map((o) => {
          const look = looks.get(o.maskId)!;
          return (
            <ObjectRow
              key={o.maskId}
              o={o}
              name={look.name || o.label}
              colour={look.colour}
              classical={look.classical}
              focused={focused === o.maskId}
              selected={selected.includes(o.maskId)}
              hidden={view.hidden.includes(o.maskId)}
              opacity={objectOpacity(view, o.maskId)}
            />
          );
        })}
      </ul>
      <ObjectUndoToast />
    </section>
  );
}

interface RowProps {
  o: MeasuredObject;
  name: string;
  colour: string;
  focused: boolean;
  selected: boolean;
  hidden: boolean;
  opacity: number;
  classical: boolean;
}

function ObjectRow({ o, name, colour, focused, selected, hidden, opacity, classical }: RowProps) {
  const [editing, setEditing] = useState<string | null>(null);
  const [picking, setPicking] = useState(false);
  const paletteRef = useRef<HTMLSpanElement | null>(null);
  // the palette opens below the row: brought into the (scrolling) list's view
  useEffect(() => {
    if (picking) paletteRef.current?.scrollIntoView({ block: 'nearest' });
  }, [picking]);
  const title = [
    o.perimeterM !== null ? `perimeter ${Math.round(o.perimeterM).toLocaleString('en-US')} m` : 'image has no georeferencing: pixel area',
    o.touchesEdge ? 'reaches the image edge: area is a lower bound' : '',
    o.problem ?? '',
  ].filter(Boolean).join(' · ');
  const save = () => {
    const label = editing;
    setEditing(null);
    if (label !== null && label.trim() !== name) void renameObject(o.maskId, label);
  };
  return (
    <li className="object-item" data-testid="object-item" data-mask-id={o.maskId}>
      <input type="checkbox" aria-label={`export ${name}`} data-testid="object-select" checked={selected} onChange={() => toggleSelected(o.maskId)} />
      <div className="object-main">
        {editing !== null ? (
          <input
            className="object-rename"
            data-testid="object-rename-input"
            aria-label={`New name for ${name}`}
            value={editing}
            autoFocus
            maxLength={200}
            placeholder="blank: its phrase or question"
            onChange={(e) => setEditing(e.target.value)}
            onBlur={save}
            onKeyDown={(e) => {
              if (e.key === 'Enter') save();
              if (e.key === 'Escape') setEditing(null);
            }}
          />
        ) : (
          <button
            type="button"
            className={`list-item object-row${focused ? ' selected' : ''}`}
            data-testid="object-row"
            data-mask-id={o.maskId}
            title={title}
            onMouseEnter={() => highlightMask(o.maskId)}
            onMouseLeave={() => highlightMask(null)}
            onFocus={() => highlightMask(o.maskId)}
            onClick={() => focusMask(o.maskId)}
            onDoubleClick={() => setEditing(name)}
          >
            <span className="object-line">
              <span className="swatch" data-testid="object-swatch" data-colour={colour} style={{ background: colour || 'transparent' }} aria-hidden="true" />
              <span className="item-name" title={name}>{name}</span>
              <span className="object-area" data-testid="object-area">{formatArea(o)}</span>
            </span>
            <span className="item-meta">
              {classical ? CLASSICAL_MASK_NOTE : `score ${o.score.toFixed(2)}`} · answer {o.turnSeq}
              {o.touchesEdge ? ' · at image edge' : ''}
              {o.problem ? ' · cannot export' : ''}
            </span>
          </button>
        )}
        {picking && (
          <span className="object-palette" role="group" aria-label={`colour of ${name}`} data-testid="object-palette" ref={paletteRef}>
            {OBJECT_COLOURS.map((c) => (
              <button
                key={c}
                type="button"
                className={`palette-swatch${c === colour ? ' current' : ''}`}
                data-testid="object-colour-choice"
                data-colour={c}
                aria-label={`colour ${c}`}
                aria-pressed={c === colour}
                style={{ background: c }}
                onClick={() => {
                  setPicking(false);
                  if (c !== colour) void recolourObject(o.maskId, c);
                }}
              />
            ))}
          </span>
        )}
      </div>
      <span className="object-view">
        <span className="object-actions">
          <button
            type="button"
            className="tool"
            data-testid="object-visibility"
            aria-pressed={!hidden}
            aria-label={`${hidden ? 'show' : 'hide'} ${name} on the map`}
            title={hidden ? 'show on the map' : 'hide on the map'}
            onClick={() => toggleObjectHidden(o.maskId)}
          >
            {hidden ? '◌' : '●'}
          </button>
          <button type="button" className="icon-button" data-testid="object-rename" aria-label={`Rename ${name}`} title="Rename" onClick={() => setEditing(name)}>
            ✎
          </button>
          <button type="button" className="icon-button" data-testid="object-colour" aria-label={`Colour of ${name}`} aria-expanded={picking} title="Colour" onClick={() => setPicking(!picking)}>
            ◐
          </button>
          <button type="button" className="icon-button" data-testid="object-delete" aria-label={`Delete ${name}`} title="Delete (can be undone)" onClick={() => void deleteObject(o.maskId)}>
            ✕
          </button>
        </span>
        <input
          type="range"
          min={0}
          max={100}
          step={5}
          data-testid="object-opacity"
          aria-label={`opacity of ${name}`}
          title="opacity on the map"
          disabled={hidden}
          value={Math.round(opacity * 100)}
          onChange={(e) => setObjectOpacity(o.maskId, Number(e.target.value) / 100)}
        />
      </span>
    </li>
  );
}

/** "Deleted “name”. Undo": the object comes back exactly as it was (name, colour, outline, place in the list). */
function ObjectUndoToast() {
  const undo = useStore(objectEditStore, (s) => s.undo);
  useEffect(() => {
    if (!undo) return;
    const t = setTimeout(dismissObjectUndo, UNDO_VISIBLE_MS);
    return () => clearTimeout(t);
  }, [undo]);
  if (!undo) return null;
  return (
    <div className="toast" role="status" data-testid="object-undo-toast">
      <span>Deleted “{undo.name}”.</span>
      <button type="button" data-testid="undo-object-delete" onClick={() => void undoDeleteObject()}>
        Undo
      </button>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={dismissObjectUndo}>
        ×
      </button>
    </div>
  );
}
