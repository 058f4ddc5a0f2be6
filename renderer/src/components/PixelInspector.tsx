import { useStore } from '../stores/createStore.js';
import { displayStore } from '../stores/displayStore.js';

const fmt = (v: number | null): string => (v === null ? 'NaN' : Number.isInteger(v) ? String(v) : v.toPrecision(6));

/** Values and positions of the pixel under the cursor (read from the backend, at most one request at a time). */
export function PixelInspector() {
  const p = useStore(displayStore, (s) => s.pixel);
  if (!p) return <p className="muted pixel-inspector">Move over the image to inspect pixels.</p>;
  return (
    <dl className="pixel-inspector" data-testid="pixel-inspector" data-x={p.x} data-y={p.y}>
      <dt>pixel</dt>
      <dd>
        {p.x}, {p.y}
        {!p.inside ? ' (outside)' : !p.valid ? ' (no data)' : ''}
      </dd>
      {p.inside && (
        <>
          <dt>values</dt>
          <dd data-testid="pixel-values">{p.values.map(fmt).join('  ')}</dd>
        </>
      )}
      {p.calibrated && (
        <>
          <dt>{p.calibrated.quantity}</dt>
          <dd data-testid={p.calibrated.unit === 'K' ? 'pixel-temperature' : 'pixel-calibrated'}>
            {p.calibrated.unit === 'K'
              ? `${p.calibrated.value.toFixed(2)} K · ${(p.calibrated.value - 273.15).toFixed(2)} °C`
              : `${p.calibrated.value.toFixed(2)} ${p.calibrated.unit}`}
          </dd>
        </>
      )}
      {p.crsXY && (
        <>
          <dt data-testid="pixel-crs">{p.crsName ?? 'CRS'}</dt>
          <dd>
            {p.crsXY[0].toFixed(2)}, {p.crsXY[1].toFixed(2)}
          </dd>
        </>
      )}
      {p.lonLat && (
        <>
          <dt>lon, lat</dt>
          <dd>
            {p.lonLat[0].toFixed(6)}, {p.lonLat[1].toFixed(6)}
          </dd>
        </>
      )}
      {p.mgrs && (
        <>
          <dt>MGRS</dt>
          <dd data-testid="pixel-mgrs">{p.mgrs}</dd>
        </>
      )}
    </dl>
  );
}
