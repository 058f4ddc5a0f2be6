import type { SessionSummary } from '../../../main/contract/schemas.js';
import { emitAppEvent, setBodyState } from '../appEvents.js';
import { restoreChat } from './chatStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { restoreMap, setCaseChangedListener } from './mapStore.js';

export interface SessionState {
  sessions: SessionSummary[];
  currentId: string | null;
  loading: boolean;
  error: string | null;
}

export const sessionStore = createStore<SessionState>({ sessions: [], currentId: null, loading: false, error: null });

export function defaultCaseName(now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `Case ${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())} ${pad(now.getHours())}:${pad(now.getMinutes())}`;
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
  } catch (e) {
    sessionStore.set({ error: `could not load the cases: ${errorText(e)}` });
  } finally {
    sessionStore.set({ loading: false });
  }
}

setCaseChangedListener(() => void refreshSessions());

export async function refreshSessions(): Promise<void> {
  try {
    sessionStore.set({ sessions: (await client().call('sessions.list', {})).sort(byRecent) });
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
    restoreMap({ sessionId, images: detail.images, regions: detail.regions, masks: detail.masks, view: detail.view });
    restoreChat(detail.turns, detail.regions);
    setBodyState('sessionId', sessionId);
    emitAppEvent('session-opened');
  } catch (e) {
    sessionStore.set({ error: `could not open the case: ${errorText(e)}` });
  } finally {
    sessionStore.set({ loading: false });
  }
}
