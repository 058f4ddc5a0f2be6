/**
 * JSON.parse for text read from a file someone wrote: a leading UTF-8 byte order mark (Notepad and other Windows
 * tools write one; RFC 8259 §8.1 lets a parser ignore it) is skipped instead of failing as "Unexpected token".
 */
export function parseJsonText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
}
