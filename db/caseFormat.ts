import path from 'node:path';

/** What a `.vantage` case file is, shared by the exporter (main process) and the reader (child process). */
export const CASE_EXT = '.vantage';

/** Embedded image bytes are stored in chunks of at most this size (case_assets.bytes). */
export const CHUNK = 8 * 1024 * 1024;

/** Keys in the case file's `settings` table saying what it holds. */
export const META = { sessionId: 'case.sessionId', exportedAt: 'case.exportedAt', appVersion: 'case.appVersion', embedded: 'case.embeddedImages' } as const;

/** Ids Vantage writes (randomUUID); anything else read from a case file is replaced. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A content hash as Vantage records it; only such a value names an embedded image's bytes. */
export const SHA256 = /^[0-9a-f]{64}$/;

/** Longest file name we write from data (bytes; file systems allow 255). */
const MAX_NAME_BYTES = 120;

/** Names Windows reserves whatever the extension. */
const RESERVED = /^(con|prn|aux|nul|com\d|lpt\d)$/i;

/**
 * A file-system-safe name from text a case (or its file) supplies: its last path component only (either slash),
 * without control or reserved characters, leading dots, or more than 120 bytes (the extension kept where it fits).
 * Never empty: `fallback` when nothing usable is left. The result still goes through joinUnder where it is used.
 */
export function safeFileName(text: string, fallback = 'case'): string {
  const last = text.split(/[\\/]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what file names must not contain
  let s = last.replace(/[\\/:*?"<>|\u0000-\u001f\u007f]/g, '_').replace(/^[.\s]+/, '').trim();
  const { name, ext } = path.parse(s);
  if (RESERVED.test(name)) s = `_${s}`;
  if (Buffer.byteLength(s) > MAX_NAME_BYTES) {
    const keep = ext && Buffer.byteLength(ext) <= 16 ? ext : '';
    s = truncateBytes(s.slice(0, s.length - keep.length), MAX_NAME_BYTES - Buffer.byteLength(keep)).trim() + keep;
  }
  return s.replace(/[.\s]+$/, '') || fallback;
}

/** The longest prefix of `s` (whole code points) that fits in `max` UTF-8 bytes. */
export function truncateBytes(s: string, max: number): string {
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    bytes += Buffer.byteLength(ch);
    if (bytes > max) break;
    out += ch;
  }
  return out;
}

/** Text from a file shown in a message or kept as provenance: at most `max` characters, quoted. */
export function shown(value: unknown, max = 60): string {
  const s = typeof value === 'string' ? value : String(value);
  const head = [...s.slice(0, max * 2)];
  return JSON.stringify(head.length > max || s.length > max * 2 ? `${head.slice(0, max - 1).join('')}…` : s);
}
