export type AppEvent =
  | 'app-ready'
  | 'session-opened'
  | 'session-renamed'
  | 'session-deleted'
  | 'session-restored'
  | 'session-purged'
  | 'image-relinked'
  | 'case-exported'
  | 'case-imported'
  | 'image-opened'
  | 'tiles-loaded'
  | 'region-drawn'
  | 'turn-saved'
  | 'answer-done'
  | 'mask-shown'
  | 'object-changed'
  | 'object-deleted'
  | 'object-restored'
  | 'batch-done'
  | 'change-focused'
  | 'model-ready';

declare global {
  interface Window {
    /** what happened, in order: e2e tests wait on these instead of sleeping */
    __vantageEvents?: string[];
  }
}

export function emitAppEvent(name: AppEvent): void {
  if (typeof window === 'undefined') return; // store logic under unit test runs without a page
  const log = (window.__vantageEvents ??= []);
  log.push(name);
  window.dispatchEvent(new CustomEvent('vantage-event', { detail: name }));
}

/** Mirror of the app's state on <body data-*> for tests and styling. */
export function setBodyState(key: string, value: string | null): void {
  if (typeof document === 'undefined') return;
  if (value === null) delete document.body.dataset[key];
  else document.body.dataset[key] = value;
}
