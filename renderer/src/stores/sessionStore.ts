import type { FileRef, SessionSummary } from '../../../main/contract/schemas.js';
import { emitAppEvent, setBodyState } from '../appEvents.js';
import { defaultCaseName as contractDefaultCaseName } from '../../../main/contract/caseNames.js';
import { showCase } from './caseStore.js';
import { resetChat } from './chatStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { chooseFor } from './fileBrowserStore.js';
import { showCaseView } from './mapStore.js';

export interface SessionState {
  sessions: SessionSummary[];
  currentId: string | null;
  loading: boolean;
  error: string | null;
  /** the search box's text; the list shows only matching cases while it is not empty */
  query: string;
  /** the case just deleted, offered back by the "Undo" toast until another delete or a dismiss */
  undo: { id: string; name: string } | null;
  /** embed the images' bytes in exported case files (bigger, but complete on a machine without the imagery) */
  embedImages: boolean;
  /** the last export/import outcome, shown under the list */
  notice: string | null;
  /** soft-deleted cases (restorable until purgeAfter), most recently deleted first */
  deleted: DeletedCase[];
  /** the "Recently deleted" section is expanded */
  showDeleted: boolean;
}

export type DeletedCase = SessionSummary & { deletedAt: string; purgeAfter: string };

export const sessionStore = createStore<SessionState>({
  sessions: [],
  currentId: null,
  loading: false,
  error: null,
  query: '',
  undo: null,
  embedImages: false,
  notice: null,
  deleted: [],
  showDeleted: false,
});

/** A new case's name, distinct from the listed cases' (contract/caseNames.ts; renamed after its first image). */
export function defaultCaseName(now = new Date()): string {
  return contractDefaultCaseName(now, sessionStore.get().sessions.map((s) => s.name));
}

const byRecent = (a: SessionSummary, b: SessionSummary) => b.updatedAt.localeCompare(a.updatedAt);

/** First start: list the cases, create one when there are none, and open the most recent. */
export async function initSessions(): Promise<void> {
  sessionStore.set({ loading: true, error: null });
  try {
    let sessions = (await client().call('sessions.list', {})).sort(byRecent);
    if (sessions.length === 0) {
      sessions = [await client().call('sessions.create', { name: defaultCaseName() })];
    }
    sessionStore.set({ sessions });
    await openSession(sessions[0]!.id);
    await refreshDeleted();
  } catch (e) {
    sessionStore.set({ error: `could not load the cases: ${errorText(e)}` });
  } finally {
    sessionStore.set({ loading: false });
  }
}

export async function refreshSessions(): Promise<void> {
  const query = sessionStore.get().query.trim();
  try {
    const sessions = (await client().call('sessions.list', query ? { query } : {})).sort(byRecent);
    // a slower answer to an older query must not replace the list of the current one
    if (sessionStore.get().query.trim() === query) sessionStore.set({ sessions });
  } catch (e) {
    sessionStore.set({ error: `could not list the cases: ${errorText(e)}` });
  }
}

export async function createSession(name: string): Promise<void> {
  try {
    const s = await client().call('sessions.create', { name: name.trim() || defaultCaseName() });
    sessionStore.set((st) => ({ sessions: [s, ...st.sessions] }));
    await openSession(s.id);
  } catch (e) {
    sessionStore.set({ error: `could not create the case: ${errorText(e)}` });
  }
}

export async function openSession(sessionId: string): Promise<void> {
  sessionStore.set({ loading: true, error: null });
  try {
    const detail = await client().call('sessions.open', { sessionId });
    sessionStore.set((st) => ({
      currentId: sessionId,
      sessions: st.sessions.map((s) => (s.id === sessionId ? detail.session : s)),
    }));
    resetChat();
    showCase(detail);
    showCaseView(detail.view);
    setBodyState('sessionId', sessionId);
    emitAppEvent('session-opened');
  } catch (e) {
    sessionStore.set({ error: `could not open the case: ${errorText(e)}` });
  } finally {
    sessionStore.set({ loading: false });
  }
}

/** Search as the user types (name, image file, any turn's text, or a date such as 2026-11). */
export async function searchSessions(query: string): Promise<void> {
  sessionStore.set({ query });
  await refreshSessions();
}

export async function renameSession(sessionId: string, name: string): Promise<void> {
  const trimmed = name.trim();
  if (!trimmed) return;
  try {
    const s = await client().call('sessions.rename', { sessionId, name: trimmed });
    sessionStore.set((st) => ({ sessions: st.sessions.map((x) => (x.id === s.id ? s : x)) }));
    emitAppEvent('session-renamed');
  } catch (e) {
    sessionStore.set({ error: `could not rename the case: ${errorText(e)}` });
  }
}

export async function duplicateSession(sessionId: string): Promise<void> {
  try {
    const s = await client().call('sessions.duplicate', { sessionId });
    sessionStore.set((st) => ({ sessions: [s, ...st.sessions] }));
    await openSession(s.id);
  } catch (e) {
    sessionStore.set({ error: `could not duplicate the case: ${errorText(e)}` });
  }
}

/** Soft delete with an Undo toast; when the open case goes, the most recent remaining one opens (or a new one). */
export async function deleteSession(sessionId: string): Promise<void> {
  const victim = sessionStore.get().sessions.find((s) => s.id === sessionId);
  try {
    await client().call('sessions.delete', { sessionId });
    sessionStore.set((st) => ({ sessions: st.sessions.filter((s) => s.id !== sessionId), undo: { id: sessionId, name: victim?.name ?? 'case' } }));
    emitAppEvent('session-deleted');
    await refreshDeleted();
    if (sessionStore.get().currentId === sessionId) {
      const next = sessionStore.get().sessions[0];
      if (next) await openSession(next.id);
      else await createSession(defaultCaseName());
    }
  } catch (e) {
    sessionStore.set({ error: `could not delete the case: ${errorText(e)}` });
  }
}

export async function undoDelete(): Promise<void> {
  const undo = sessionStore.get().undo;
  if (!undo) return;
  sessionStore.set({ undo: null });
  try {
    await client().call('sessions.restore', { sessionId: undo.id });
    await refreshSessions();
    await refreshDeleted();
    await openSession(undo.id);
  } catch (e) {
    sessionStore.set({ error: `could not restore the case: ${errorText(e)}` });
  }
}

export function dismissUndo(): void {
  sessionStore.set({ undo: null });
}

/** Re-reads the deleted cases (the "Recently deleted (N)" section). */
export async function refreshDeleted(): Promise<void> {
  try {
    sessionStore.set({ deleted: await client().call('sessions.deleted', {}) });
  } catch (e) {
    sessionStore.set({ error: `could not list the deleted cases: ${errorText(e)}` });
  }
}

export function toggleDeleted(): void {
  const showDeleted = !sessionStore.get().showDeleted;
  sessionStore.set({ showDeleted });
  if (showDeleted) void refreshDeleted();
}

/** Brings a deleted case back (any time before its purge date) and opens it. */
export async function restoreDeleted(sessionId: string): Promise<void> {
  try {
    await client().call('sessions.restore', { sessionId });
    // the Undo toast may still offer this very case
    if (sessionStore.get().undo?.id === sessionId) sessionStore.set({ undo: null });
    await refreshSessions();
    await refreshDeleted();
    await openSession(sessionId);
    emitAppEvent('session-restored');
  } catch (e) {
    sessionStore.set({ error: `could not restore the case: ${errorText(e)}` });
  }
}

/** "Delete now": removes a deleted case for good (its turns, regions, masks, reports), before its purge date. */
export async function purgeDeleted(sessionId: string): Promise<void> {
  try {
    await client().call('sessions.purge', { sessionId });
    if (sessionStore.get().undo?.id === sessionId) sessionStore.set({ undo: null });
    await refreshDeleted();
    emitAppEvent('session-purged');
  } catch (e) {
    sessionStore.set({ error: `could not delete the case for good: ${errorText(e)}` });
  }
}

/** Points a missing image at the file the user chose; the backend accepts it only with the recorded sha256. */
export async function relinkImage(imageId: string, file: FileRef): Promise<void> {
  try {
    await client().call('imagery.relink', { imageId, file });
    const current = sessionStore.get().currentId;
    if (current) await openSession(current);
    emitAppEvent('image-relinked');
  } catch (e) {
    sessionStore.set({ error: `could not relink the image: ${errorText(e)}` });
  }
}

const kb = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.ceil(bytes / 1024)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);

/** Writes the case as one .vantage file into a folder the user chooses. */
export async function exportCase(sessionId: string): Promise<void> {
  await chooseFor('folder', 'Export case to folder', async (folder) => {
    try {
      const r = await client().call('sessions.export', { sessionId, folder, embedImages: sessionStore.get().embedImages });
      sessionStore.set({ notice: `Exported ${r.fileName} (${kb(r.bytes)}${r.embeddedImages ? `, ${r.embeddedImages} image(s) inside` : ', images by reference'})`, error: null });
      emitAppEvent('case-exported');
    } catch (e) {
      sessionStore.set({ error: `could not export the case: ${errorText(e)}` });
    }
  });
}

/** Reads a .vantage file into a new case and opens it. */
export async function importCase(): Promise<void> {
  await chooseFor('case', 'Import case file (.vantage)', async (file) => {
    try {
      const r = await client().call('sessions.import', { file });
      const images = r.extractedImages ? ` with ${r.extractedImages} image(s)` : '';
      const ids = r.keptIds ? '' : ` — ${r.ids.alreadyHere ? 'already in this database, so it got new ids' : `${r.ids.replaced} malformed id(s) replaced`}`;
      const warnings = r.warnings.length ? `. ${r.warnings.join('. ')}` : '';
      sessionStore.set({ notice: `Imported “${r.session.name}”${images}${ids}${warnings}`, error: null, query: '' });
      await refreshSessions();
      await openSession(r.session.id);
      emitAppEvent('case-imported');
    } catch (e) {
      sessionStore.set({ error: `could not import the case: ${errorText(e)}` });
    }
  });
}
