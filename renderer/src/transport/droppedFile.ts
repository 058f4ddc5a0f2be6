import { LOOPBACK } from '../../../main/contract/bridge.js';
import type { FileRef } from '../../../main/contract/schemas.js';

/**
 * A reference the services accept for a file the user dropped or chose in an <input type=file>. In Electron the
 * preload turns the file into a reference (its path never reaches the page). In a browser the page cannot know the
 * path, so the bytes are uploaded into the imports folder of the data directory and that copy is referenced
 * (`copied`: the user is told so).
 */
export async function fileRefOf(file: File): Promise<{ ref: FileRef; copied: boolean }> {
  const bridge = window.vantageBridge;
  if (bridge?.droppedFileRef) {
    const r = await bridge.droppedFileRef(file);
    if (!r.ok) throw new Error(r.error.message);
    return { ref: r.result.ref, copied: false };
  }
  return { ref: await uploadedRef(file), copied: true };
}

async function uploadedRef(file: File): Promise<FileRef> {
  const res = await fetch(`${LOOPBACK.uploadPath}?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    body: file, // streamed from disk by the browser, never read into the page
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/octet-stream' },
  });
  const body = (await res.json().catch(() => null)) as { ok: boolean; result?: { ref: string }; error?: { message: string } } | null;
  if (!body?.ok || !body.result) throw new Error(body?.error?.message ?? `upload failed (HTTP ${res.status})`);
  return body.result.ref;
}
