/**
 * Attribution lines for imagery whose source is recognisable from its file name (the public data families the
 * test set and most analysts use). Unknown sources get a neutral line: the analyst owns the licence question.
 */
const RULES: { test: RegExp; line: string }[] = [
  { test: /^RGB\.byte\.tif$/i, line: 'Landsat 7 ETM+ imagery courtesy of the U.S. Geological Survey (public domain); sample via rasterio test data (CC0 1.0).' },
  { test: /landsat|^L[CET]0\d_|^LC08/i, line: 'Landsat imagery courtesy of the U.S. Geological Survey (public domain).' },
  { test: /S1[AB]_|sentinel|^T\d\d[A-Z]{3}_|B0[2348]\.tif$|TCI\.tif$/i, line: 'Contains modified Copernicus Sentinel data.' },
  { test: /naip|^m_\d{7}_/i, line: 'NAIP imagery courtesy of the USDA Farm Production and Conservation Business Center (public domain).' },
  { test: /spacenet/i, line: 'SpaceNet imagery (CC BY-SA 4.0), SpaceNet LLC; adapted data share alike.' },
  { test: /^\d_\d+_\d+_\d_\d+\.jpg$/i, line: 'HIT-UAV infrared dataset, Suo et al., Scientific Data 10, 227 (2023), CC BY 4.0.' },
];

export function attributionLines(imageNames: string[]): string[] {
  const lines: string[] = [];
  for (const name of imageNames) {
    const rule = RULES.find((r) => r.test.test(name));
    const line = rule ? `${name}: ${rule.line}` : `${name}: source and licence not recorded; check the provider's terms before publishing.`;
    if (!lines.includes(line)) lines.push(line);
  }
  return lines;
}
