import { useEffect, useState } from 'react';
import {
  askWhatChanged,
  closeCompare,
  compareStore,
  flipDate,
  focusChange,
  hoverChange,
  openCompare,
  runChangeDetection,
  setCompareMode,
  setPair,
  sortChanges,
  sortedChanges,
  stopWhatChanged,
  toggleBlink,
} from '../stores/compareStore.js';
import { caseStore } from '../stores/caseStore.js';
import { modelStore } from '../stores/modelStore.js';
import { useStore } from '../stores/createStore.js';
import { CompareView } from './map/CompareView.js';
import { cleanModelText } from '../../../main/contract/modelText.js';
import type { ChangeResult } from '../../../main/contract/calls/change.js';
import { magnitudeUnit, methodLine } from './changeText.js';
import { pairOverlap } from '../map/pairOverlap.js';

const area = (m2: number | null, px: number) => (m2 !== null ? (m2 >= 1e4 ? `${(m2 / 1e4).toFixed(2)} ha` : `${m2.toFixed(0)} m²`) : `${px.toFixed(0)} px`);

/** The toolbar's "Compare dates" button (a floating one covered the chat panel's corner). */
export function CompareLauncher() {
  const open = useStore(compareStore, (x) => x.open);
  const usable = useStore(caseStore, (x) => x.images.filter((i) => !i.missing).length);
  return (
    <button type="button" data-testid="compare-open" onClick={openCompare} disabled={open || usable < 2} title="Compare two dates of the same place (needs two images)">
      Compare dates
    </button>
  );
}

/** Two dates of one place: pick the pair, compare (side by side or blink), run the classical change detection. */
export function ComparePanel() {
  const s = useStore(compareStore, (x) => x);
  const images = useStore(caseStore, (x) => x.images);
  const usable = images.filter((i) => !i.missing);

  // blink: flip between the dates at the chosen interval while it is on
  useEffect(() => {
    if (!s.open || s.mode !== 'blink' || !s.blinking) return;
    const t = setInterval(flipDate, s.blinkMs);
    return () => clearInterval(t);
  }, [s.open, s.mode, s.blinking, s.blinkMs]);

  if (!s.open) return null;
  const a = usable.find((i) => i.id === s.imageA) ?? null;
  const b = usable.find((i) => i.id === s.imageB) ?? null;
  const r = s.result;
  const overlap = a && b && a.id !== b.id ? pairOverlap(a, b) : null;
  // the pair's own problem (no two images overlap, or the chosen two do not), said as soon as the pair is chosen
  const notice = s.notice ?? (overlap && !overlap.ok ? `${overlap.why}.` : null);
  return (
    <section data-testid="compare-panel" aria-label="Compare two dates" style={panel}>
      <header style={{ display: 'flex', gap: 8, alignItems: 'center', flexWrap: 'wrap' }}>
        <strong>Compare</strong>
        {(['A', 'B'] as const).map((which) => (
          <label key={which}>
            {which}{' '}
            <select
              data-testid={`compare-image-${which}`}
              value={(which === 'A' ? s.imageA : s.imageB) ?? ''}
              onChange={(e) => setPair(which, e.target.value)}
            >
              <option value="" disabled>choose…</option>
              {usable.map((i) => (
                <option key={i.id} value={i.id}>{i.name}</option>
              ))}
            </select>
          </label>
        ))}
        <button type="button" className={`tool${s.mode === 'side' ? ' active' : ''}`} aria-pressed={s.mode === 'side'} data-testid="compare-mode-side" onClick={() => setCompareMode('side')}>Side by side</button>
        <button type="button" className={`tool${s.mode === 'blink' ? ' active' : ''}`} aria-pressed={s.mode === 'blink'} data-testid="compare-mode-blink" onClick={() => setCompareMode('blink')}>Blink</button>
        <button type="button" className={`tool${s.mode === 'swipe' ? ' active' : ''}`} aria-pressed={s.mode === 'swipe'} data-testid="compare-mode-swipe" onClick={() => setCompareMode('swipe')}>Swipe</button>
        {s.mode === 'swipe' && (
          <input
            type="range"
            min={0}
            max={100}
            value={Math.round(s.swipe * 100)}
            aria-label="Swipe position"
            data-testid="compare-swipe"
            onChange={(e) => compareStore.set({ swipe: Number(e.target.value) / 100 })}
          />
        )}
        {s.mode === 'blink' && (
          <>
            <button type="button" data-testid="compare-blink" aria-pressed={s.blinking} onClick={toggleBlink}>{s.blinking ? 'Stop blink' : 'Start blink'}</button>
            <button type="button" data-testid="compare-flip" onClick={flipDate} disabled={s.blinking}>Show {s.showingB ? 'A' : 'B'}</button>
            <label>
              every{' '}
              <select value={s.blinkMs} onChange={(e) => compareStore.set({ blinkMs: Number(e.target.value) })}>
                {[400, 800, 1500].map((ms) => <option key={ms} value={ms}>{ms} ms</option>)}
              </select>
            </label>
          </>
        )}
        <label title="smallest change kept: m², or pixels when the pair is not georeferenced">
          min area{' '}
          <input
            type="number"
            min={0}
            style={{ width: 72 }}
            placeholder="auto"
            data-testid="compare-min-area"
            value={s.minArea}
            onChange={(e) => compareStore.set({ minArea: e.target.value })}
          />
        </label>
        <label title="for pairs without georeference: the same features on both images, pixels of A then of B">
          tie points{' '}
          <input
            type="text"
            style={{ width: 180 }}
            placeholder="xa,ya:xb,yb; … (≥ 3)"
            data-testid="compare-ties"
            value={s.ties}
            onChange={(e) => compareStore.set({ ties: e.target.value })}
          />
        </label>
        <button type="button" className="primary" data-testid="compare-run" onClick={() => void runChangeDetection()} disabled={!a || !b || s.running}>
          {s.running ? 'Detecting…' : 'Detect changes'}
        </button>
        <button type="button" data-testid="compare-close" onClick={closeCompare} style={{ marginLeft: 'auto' }}>Close</button>
      </header>
      {s.error && <p role="alert" data-testid="compare-error" style={{ color: 'var(--danger)', margin: 0 }}>{s.error}</p>}
      {notice && notice !== s.error && (
        <p role="status" data-testid="compare-notice" style={{ margin: 0 }}>⚠ {notice}</p>
      )}
      {a && b && a.id !== b.id ? (
        <CompareView a={a} b={b} mode={s.mode} showingB={s.showingB} swipe={s.swipe} result={r} />
      ) : (
        <p style={{ margin: 0 }}>Pick two different images of the same place.</p>
      )}
      {r && (
        <div data-testid="compare-result" style={{ fontSize: 13, display: 'flex', flexDirection: 'column', gap: 2 }}>
          <p style={{ margin: '4px 0 0' }} data-testid="compare-summary">
            {r.stats.polygonCount} change polygon(s), {area(r.stats.changedM2, r.stats.changedPx)} changed (
            {r.stats.changedPctOfOverlap.toFixed(1)}% of the overlap) · overlap {area(r.stats.overlap.m2, r.stats.overlap.px)}, {r.stats.overlap.pctOfA.toFixed(1)}% of A ·
            offset {r.stats.offset ? `${r.stats.offset.dxPx.toFixed(2)}, ${r.stats.offset.dyPx.toFixed(2)} px` : 'n/a'}
            {r.stats.alignment.warnings.map((w) => ` · ⚠ ${w}`).join('')}
          </p>
          <p style={{ margin: 0 }} data-testid="compare-method" title={r.stats.sarScale ? `how each date's scale was decided: ${r.stats.sarScale.why}` : undefined}>
            {methodLine(r.stats)}
          </p>
          <ChangeList result={r} />
        </div>
      )}
      {a && b && a.id !== b.id && <WhatChanged />}
    </section>
  );
}

/** The changed areas: sortable by area or mean magnitude; a click zooms the maps to the area and highlights it. */
function ChangeList({ result }: { result: ChangeResult }) {
  const sort = useStore(compareStore, (x) => x.changeSort);
  const hovered = useStore(compareStore, (x) => x.hoveredChange);
  const focused = useStore(compareStore, (x) => x.focusedChange?.index ?? null);
  if (result.polygons.length === 0) return <p style={{ margin: 0 }}>No changed area kept at this minimum area.</p>;
  const order = sortedChanges(result, sort);
  const shown = order.slice(0, MAX_ROWS);
  const header = (key: 'area' | 'magnitude', label: string, title: string) => (
    <th aria-sort={sort.key === key ? (sort.desc ? 'descending' : 'ascending') : 'none'} style={{ textAlign: 'right', padding: '0 6px', minWidth: 110 }}>
      <button type="button" className="link" data-testid={`change-sort-${key}`} title={title} onClick={() => sortChanges(key)}>
        {label}{sort.key === key ? (sort.desc ? ' ▼' : ' ▲') : ''}
      </button>
    </th>
  );
  return (
    <div style={{ maxHeight: 150, overflow: 'auto' }} data-testid="change-list">
      <table style={{ borderCollapse: 'collapse', fontVariantNumeric: 'tabular-nums' }}>
        <thead style={{ position: 'sticky', top: 0, background: 'var(--panel)' }}>
          <tr>
            <th style={{ textAlign: 'right', padding: '0 6px', minWidth: 32 }}>#</th>
            {header('area', 'Area', 'sort by area')}
            {header('magnitude', 'Mean magnitude', `sort by the mean change magnitude over the area, ${magnitudeUnit(result.stats)}`)}
          </tr>
        </thead>
        <tbody>
          {shown.map((i) => {
            const p = result.polygons[i]!;
            const on = focused === i;
            return (
              <tr
                key={i}
                data-testid="change-polygon-item"
                data-index={i}
                aria-selected={on}
                tabIndex={0}
                title="zoom the maps to this area"
                style={{ cursor: 'pointer', background: on ? 'rgba(255, 214, 10, 0.25)' : hovered === i ? 'rgba(255, 255, 255, 0.08)' : undefined }}
                onMouseEnter={() => hoverChange(i)}
                onMouseLeave={() => hoverChange(null)}
                onClick={() => focusChange(i)}
                onKeyDown={(e) => {
                  if (e.key === 'Enter' || e.key === ' ') {
                    e.preventDefault();
                    focusChange(i);
                  }
                }}
              >
                <td style={{ textAlign: 'right', padding: '0 6px' }}>{i + 1}</td>
                <td style={{ textAlign: 'right', padding: '0 6px' }} data-testid="change-area">{area(p.areaM2, p.areaPx)}</td>
                <td style={{ textAlign: 'right', padding: '0 6px' }} data-testid="change-magnitude">{p.meanMagnitude.toFixed(2)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {order.length > MAX_ROWS && <p style={{ margin: 0 }}>… and {order.length - MAX_ROWS} more (sorted out of view)</p>}
    </div>
  );
}

const MAX_ROWS = 500;

const panel = {
  position: 'fixed' as const,
  inset: '48px 24px 40px 24px',
  zIndex: 2000,
  background: 'var(--panel)',
  color: 'var(--text)',
  border: '1px solid var(--border)',
  borderRadius: 6,
  padding: 8,
  display: 'flex',
  flexDirection: 'column' as const,
  gap: 6,
  boxShadow: '0 4px 24px rgba(0,0,0,0.3)',
};

/**
 * "What changed here?": the loaded pack's bitemporal mode on the pair, of the whole pair or of the region drawn on
 * image A (the pending one); the answer streams in, its masks appear on image A. Offered only when the pack has it.
 */
function WhatChanged() {
  const c = useStore(compareStore, (x) => x.caption);
  const pack = useStore(modelStore, (x) => x.model?.pack ?? null);
  const [text, setText] = useState('');
  if (!pack?.modes.includes('bitemporal')) return null;
  return (
    <form
      data-testid="what-changed"
      style={{ display: 'flex', flexDirection: 'column', gap: 4, fontSize: 13 }}
      onSubmit={(e) => {
        e.preventDefault();
        askWhatChanged(text);
      }}
    >
      <div style={{ display: 'flex', gap: 6, alignItems: 'center' }}>
        <input
          type="text"
          style={{ flex: 1 }}
          placeholder="What changed here? (draw a region on image A to ask about it; optional extra text)"
          data-testid="what-changed-text"
          value={text}
          onChange={(e) => setText(e.target.value)}
        />
        {c?.streaming ? (
          <button type="button" data-testid="what-changed-stop" onClick={stopWhatChanged}>Stop</button>
        ) : (
          <button type="submit" className="primary" data-testid="what-changed-ask">What changed here?</button>
        )}
      </div>
      {c && (
        <p style={{ margin: 0 }} data-testid="what-changed-answer" aria-busy={c.streaming}>
          <small>{c.region ? 'region 1 on A' : 'whole pair'} · {pack.name}{pack.builtin ? ' (test pack, not trained on pairs: the text is not meaningful)' : ''}: </small>
          {cleanModelText(c.text)}
          {c.masks > 0 && <small> · {c.masks} mask(s) on image A</small>}
        </p>
      )}
      {c?.error && <p role="alert" style={{ color: 'var(--danger)', margin: 0 }}>{c.error}</p>}
    </form>
  );
}
