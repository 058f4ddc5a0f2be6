import { SourceKind, type SourceDecision } from '../../../main/contract/calls/imagery.js';
import { DisplayPreset, presetDisplay, type ColourMap, type ImageDisplay } from '../../../main/contract/imageDisplay.js';
import { useStore } from '../stores/createStore.js';
import { displayStore, setDisplay, setSarScale, setSourceKind } from '../stores/displayStore.js';
import type { CaseImage } from '../stores/caseStore.js';

const PRESET_NAMES: Record<DisplayPreset, string> = {
  natural: 'Natural',
  'false-colour-nir': 'False colour (NIR-R-G)',
  ndvi: 'NDVI',
  'sar-db': 'SAR (dB)',
  thermal: 'Thermal',
  terrain: 'Terrain (hillshade)',
};
const SAR_SCALE_NAMES = { db: 'dB', linear: 'linear power', amplitude: 'amplitude' } as const;
type SarScaleName = keyof typeof SAR_SCALE_NAMES;
const COLOUR_MAPS: ColourMap[] = ['grey', 'inferno', 'viridis', 'rdylgn', 'terrain', 'palette'];
const KIND_NAMES: Record<SourceKind, string> = {
  optical: 'Optical',
  multispectral: 'Multispectral',
  sar: 'SAR',
  thermal: 'Thermal',
  elevation: 'Elevation',
};

/** "SAR · backscatter in dB (stored in dB)" and why, as decided by the imagery service */
function kindSummary(d: SourceDecision): string {
  const c = d.calibration;
  const cal = c ? ` · ${c.quantity} in ${c.unit}${c.sarScale ? ` (stored ${c.sarScale === 'db' ? 'in dB' : c.sarScale === 'amplitude' ? 'as amplitude' : 'linear'})` : ''}${c.level ? ` (${c.level})` : ''}` : '';
  return `${KIND_NAMES[d.kind]}${cal}`;
}

/** The decided source kind, shown with its reason; the analyst may choose another (kept in the case). */
function SourceKindRow({ imageId, decision }: { imageId: string; decision: SourceDecision }) {
  const chosen = decision.why.startsWith('set by the analyst');
  return (
    <div className="display-row" data-testid="source-kind" title={decision.calibration?.why ?? decision.why}>
      <label>
        Source{' '}
        <select
          data-testid="source-kind-select"
          value={chosen ? decision.kind : ''}
          onChange={(e) => void setSourceKind(imageId, e.target.value === '' ? null : (e.target.value as SourceKind))}
        >
          <option value="">as detected</option>
          {SourceKind.options.map((k) => (
            <option key={k} value={k}>
              {KIND_NAMES[k]}
            </option>
          ))}
        </select>
      </label>{' '}
      <span data-testid="source-kind-summary">{kindSummary(decision)}</span>
    </div>
  );
}

/** SAR: the analyst says how the values are stored (dB, linear power, amplitude), independently of the kind. */
function SarScaleRow({ imageId, decision }: { imageId: string; decision: SourceDecision }) {
  const decided = decision.calibration?.sarScale ?? null;
  return (
    <div className="display-row" data-testid="sar-scale" title={decision.calibration?.why ?? ''}>
      <label>
        Stored as{' '}
        <select
          data-testid="sar-scale-select"
          value={decision.sarScaleChosen ?? ''}
          onChange={(e) => void setSarScale(imageId, e.target.value === '' ? null : (e.target.value as SarScaleName))}
        >
          <option value="">as detected{decided && !decision.sarScaleChosen ? ` (${SAR_SCALE_NAMES[decided]})` : ''}</option>
          {(Object.keys(SAR_SCALE_NAMES) as SarScaleName[]).map((k) => (
            <option key={k} value={k}>
              {SAR_SCALE_NAMES[k]}
            </option>
          ))}
        </select>
      </label>
    </div>
  );
}

/** Band picker, stretch, gamma, colour map and presets of the active image; every change is saved at once. */
export function DisplayPanel({ image }: { image: CaseImage }) {
  const display = useStore(displayStore, (s) => s.displays[image.id]);
  const decision = useStore(displayStore, (s) => s.sources[image.id]);
  const error = useStore(displayStore, (s) => s.error);
  if (!display) return null;
  // presets take the bands the band roles give (true colour B4/B3/B2, NIR…), else R,G,B,NIR order
  const facts = { bandCount: image.bandCount, dtype: image.dtype, hasPalette: display.colourMap === 'palette', composites: decision?.composites ?? null };
  const apply = (d: ImageDisplay) => void setDisplay(image.id, d);
  // an alpha band is transparency, not data: never offered
  const bandOptions = Array.from({ length: image.bandCount }, (_, i) => i).filter((i) => i !== decision?.alphaBand);
  const single = display.bands.length === 1;
  const bandLabels = display.preset === 'ndvi' ? ['NIR', 'Red'] : single ? ['Band'] : ['R', 'G', 'B'];
  return (
    <div className="display-panel" data-testid="display-panel">
      {decision && <SourceKindRow imageId={image.id} decision={decision} />}
      {decision?.kind === 'sar' && <SarScaleRow imageId={image.id} decision={decision} />}
      <label>
        Preset{' '}
        <select
          data-testid="display-preset"
          value={display.preset}
          onChange={(e) => {
            const p = presetDisplay(e.target.value as DisplayPreset, facts);
            if ('error' in p) displayStore.set({ error: p.error });
            else apply(p);
          }}
        >
          {DisplayPreset.options.map((p) => (
            <option key={p} value={p}>
              {PRESET_NAMES[p]}
            </option>
          ))}
        </select>
      </label>
      <div className="display-row">
        {display.bands.map((b, k) => (
          <label key={k}>
            {bandLabels[k]}{' '}
            <select
              data-testid={`display-band-${k}`}
              value={b}
              onChange={(e) => apply({ ...display, bands: display.bands.map((x, j) => (j === k ? Number(e.target.value) : x)) })}
            >
              {bandOptions.map((i) => (
                <option key={i} value={i}>
                  {bandLabel(i, decision)}
                </option>
              ))}
            </select>
          </label>
        ))}
        {display.preset !== 'ndvi' && image.bandCount >= 3 && (
          <button type="button" className="link" onClick={() => apply({ ...display, bands: single ? [0, 1, 2] : [display.bands[0]!], colourMap: 'grey' })}>
            {single ? 'RGB' : 'one band'}
          </button>
        )}
      </div>
      <div className="display-row">
        <label>
          Stretch{' '}
          <select
            data-testid="display-stretch"
            value={display.stretch.kind}
            onChange={(e) =>
              apply({
                ...display,
                stretch: e.target.value === 'percentile' ? { kind: 'percentile', lo: 2, hi: 98 } : { kind: 'minmax', min: 0, max: image.dtype === 'Byte' ? 255 : 1 },
              })
            }
          >
            <option value="percentile">percentile</option>
            <option value="minmax">min/max</option>
          </select>
        </label>
        <NumberField
          label={display.stretch.kind === 'percentile' ? 'lo %' : 'min'}
          value={display.stretch.kind === 'percentile' ? display.stretch.lo : display.stretch.min}
          onCommit={(v) => apply({ ...display, stretch: display.stretch.kind === 'percentile' ? { ...display.stretch, lo: v } : { ...display.stretch, min: v } })}
        />
        <NumberField
          label={display.stretch.kind === 'percentile' ? 'hi %' : 'max'}
          value={display.stretch.kind === 'percentile' ? display.stretch.hi : display.stretch.max}
          onCommit={(v) => apply({ ...display, stretch: display.stretch.kind === 'percentile' ? { ...display.stretch, hi: v } : { ...display.stretch, max: v } })}
        />
      </div>
      <div className="display-row">
        <label>
          Gamma{' '}
          <input
            type="range"
            min={0.2}
            max={3}
            step={0.1}
            value={display.gamma}
            data-testid="display-gamma"
            onChange={(e) => apply({ ...display, gamma: Number(e.target.value) })}
          />{' '}
          {display.gamma.toFixed(1)}
        </label>
      </div>
      {display.bands.length !== 3 && (
        <label>
          Colour map{' '}
          <select data-testid="display-colourmap" value={display.colourMap} onChange={(e) => apply({ ...display, colourMap: e.target.value as ColourMap })}>
            {COLOUR_MAPS.map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
      )}
      {single && (decision?.kind === 'elevation' || display.hillshade) ? (
        <label>
          <input type="checkbox" data-testid="display-hillshade" checked={display.hillshade ?? false} onChange={(e) => apply({ ...display, hillshade: e.target.checked })} />{' '}
          hillshade (display only)
        </label>
      ) : null}
      {decision?.kind === 'sar' || display.preset === 'sar-db' ? (
        <label>
          <input
            type="checkbox"
            checked={display.sarSpeckleSmoothing}
            onChange={(e) => apply({ ...display, sarSpeckleSmoothing: e.target.checked })}
          />{' '}
          speckle smoothing (display only)
        </label>
      ) : null}
      {error && <p className="inline-error">{error}</p>}
    </div>
  );
}

/** "4 · red (B04)": the band number and, where the band roles know it, what it measures */
function bandLabel(i: number, d: SourceDecision | undefined): string {
  const b = d?.bands?.[i];
  if (!b?.role) return String(i + 1);
  const role = b.role === 'nir' ? 'NIR' : b.role === 'swir' ? 'SWIR' : b.role === 'rededge' ? 'red edge' : b.role;
  return `${i + 1} · ${role}${b.name && b.name.toLowerCase() !== b.role ? ` (${b.name})` : ''}`;
}

function NumberField({ label, value, onCommit }: { label: string; value: number; onCommit: (v: number) => void }) {
  return (
    <label>
      {label}{' '}
      <input
        key={value}
        type="number"
        defaultValue={value}
        step="any"
        style={{ width: 64 }}
        onBlur={(e) => {
          const v = Number(e.target.value);
          if (Number.isFinite(v) && v !== value) onCommit(v);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
        }}
      />
    </label>
  );
}
