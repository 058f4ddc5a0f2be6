import type { ChangeStats } from '../../../main/contract/calls/change.js';

/**
 * Which detector ran, on what: the detector and its method, its threshold and, for SAR, whether each date was read as
 * dB, linear power or amplitude (then converted to dB; data already in dB is never logged twice).
 */
export function methodLine(st: ChangeStats): string {
  const sar = st.method === 'log-ratio';
  const how =
    st.detector === 'cva-matched'
      ? sar
        ? 'log-ratio (dB difference), noise-scaled, opened/closed'
        : 'change-vector analysis, B histogram-matched to A, noise-scaled, opened/closed'
      : sar
        ? 'log-ratio (absolute dB difference), the original detector'
        : 'change-vector analysis, per-band standardised, the original detector';
  const scale = (v: NonNullable<ChangeStats['sarScale']>['a']) => ({ db: 'dB', linear: 'linear power', amplitude: 'amplitude' })[v] ?? v;
  return (
    `Detector ${st.detector}: ${how} · ${st.bandsCompared} band(s) · Otsu threshold ${st.threshold.toFixed(2)} · min area ${st.minAreaPx} px` +
    (st.sarScale ? ` · SAR scale: A ${scale(st.sarScale.a)}, B ${scale(st.sarScale.b)}` : '')
  );
}

/** What a change's mean magnitude is measured in, by detector. */
export function magnitudeUnit(st: ChangeStats): string {
  if (st.detector === 'cva-matched') return 'in units of the no-change noise (σ)';
  return st.method === 'log-ratio' ? 'in dB' : 'in per-band standard deviations';
}
