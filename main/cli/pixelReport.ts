import type { PixelInfo, SourceDecision } from '../contract/calls/imagery.js';
import { VantageError } from '../contract/errors.js';

/** "X,Y" (full-resolution pixel column, row) → numbers; one clear line when it is not that. */
export function parsePixelArg(s: string, file: string, width: number, height: number): [number, number] {
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$/.exec(s);
  if (!m) throw new VantageError('BAD_INPUT', `--pixel expects X,Y (pixel column,row), got "${s}"`);
  const x = Number(m[1]);
  const y = Number(m[2]);
  if (x < 0 || y < 0 || x >= width || y >= height) {
    throw new VantageError('BAD_INPUT', `--pixel ${s} is outside ${file} (${width} × ${height} px; columns 0–${width - 1}, rows 0–${height - 1})`);
  }
  return [x, y];
}

/** What the pixel inspector shows for one pixel, as text lines. */
export function pixelLines(p: PixelInfo, d: SourceDecision, nodata: number | null): string[] {
  const vals = p.values.map((v, i) => `b${i + 1} ${v === null ? 'NaN' : v}${i === d.alphaBand ? ' (alpha)' : ''}`).join('  ');
  const why = p.valid
    ? 'valid'
    : d.alphaBand !== null && p.values[d.alphaBand] === 0
      ? 'transparent (alpha 0)'
      : p.values.some((v) => v === null)
        ? 'no data (NaN)'
        : nodata !== null && p.values.every((v) => v === nodata)
          ? `no data (nodata ${nodata})`
          : 'no data (masked by the file)';
  const c = p.calibrated;
  const cal = c ? `${c.quantity} ${c.value.toFixed(c.unit === 'K' ? 2 : 3)} ${c.unit}${c.unit === 'K' ? ` (${(c.value - 273.15).toFixed(2)} °C)` : ''}` : 'none';
  return [
    `pixel       ${p.x}, ${p.y}`,
    `values      ${vals}`,
    `state       ${why}`,
    `source      ${d.kind} (${d.why})${d.calibration ? `; ${d.calibration.quantity} in ${d.calibration.unit}${d.calibration.sarScale ? `, stored ${d.calibration.sarScale === 'db' ? 'in dB' : d.calibration.sarScale === 'amplitude' ? 'as amplitude' : 'as linear power'}` : ''}${d.calibration.level ? `, ${d.calibration.level}` : ''}` : ''}`,
    `calibrated  ${cal}`,
    `CRS x/y     ${p.crsXY ? `${p.crsXY[0].toFixed(3)}, ${p.crsXY[1].toFixed(3)} (${p.crsName})` : 'n/a'}`,
    `lon/lat     ${p.lonLat ? `${p.lonLat[0].toFixed(6)}, ${p.lonLat[1].toFixed(6)}` : 'n/a'}`,
    `MGRS        ${p.mgrs ?? 'n/a'}`,
  ];
}
