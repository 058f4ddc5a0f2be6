import type { ExportResult, MeasuredObject, ReportExtent, ReportKind, ReportSummary } from '../../../main/contract/calls/reports.js';
import type { FileRef, FolderListing } from '../../../main/contract/schemas.js';
import { caseStore } from './caseStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { modelStore } from './modelStore.js';

export interface ReportState {
  sessionId: string | null;
  objects: MeasuredObject[];
  /** objects ticked for export; none ticked = all */
  selected: string[];
  /** Douglas–Peucker tolerance for vector exports, metres (pixels on plain images); 0 = exact pixel edges */
  simplifyM: number;
  loading: boolean;
  /** export folder the analyst chose; null = next to the image */
  folder: { ref: FileRef; name: string } | null;
  /** the in-app folder browser (browser mode has no native dialog) */
  picker: { open: boolean; listing: FolderListing | null; error: string | null };
  exporting: ReportKind | null;
  /** exports stored in the case, newest first */
  reports: ReportSummary[];
  lastExport: ExportResult | null;
  error: string | null;
  /** PDF title and analyst as typed; empty = the defaults (case name, user name). Start from the last stored PDF's. */
  title: string;
  analyst: string;
  /** PDF map extent: the map's current view, or all the case's masks and prompts */
  extentChoice: 'view' | 'case';
  /** what the map shows now, kept by the map (WGS84 box for georeferenced images, pixels otherwise) */
  mapExtent: ReportExtent | null;
}

export const reportStore = createStore<ReportState>({
  sessionId: null,
  objects: [],
  selected: [],
  simplifyM: 0,
  loading: false,
  folder: null,
  picker: { open: false, listing: null, error: null },
  exporting: null,
  reports: [],
  lastExport: null,
  error: null,
  title: '',
  analyst: '',
  extentChoice: 'case',
  mapExtent: null,
});

let loadSeq = 0;

/** Measured objects of the open case, re-read whenever the case or its masks change (new answers, reopen). */
export async function loadObjects(sessionId: string): Promise<void> {
  const mine = ++loadSeq;
  reportStore.set({ loading: true });
  try {
    const { objects } = await client().call('reports.objects', { sessionId });
    if (mine === loadSeq) reportStore.set((s) => ({ objects, selected: s.selected.filter((id) => objects.some((o) => o.maskId === id)), error: null }));
  } catch (e) {
    if (mine === loadSeq) reportStore.set({ error: `could not measure the objects: ${errorText(e)}` });
  } finally {
    if (mine === loadSeq) reportStore.set({ loading: false });
  }
}

let watchedKey = '';
/** Follows the open case: the objects are its masks, measured on the server. */
export function watchCase(): () => void {
  const check = () => {
    const s = caseStore.get();
    // a renamed or recoloured object is measured again too: its label is in the list and the exports
    const key = `${s.sessionId}|${s.masks.map((m) => `${m.id}:${m.label ?? ''}:${m.colour ?? ''}`).join(',')}`;
    if (key === watchedKey) return;
    const sessionChanged = s.sessionId !== reportStore.get().sessionId;
    watchedKey = key;
    if (sessionChanged) reportStore.set({ sessionId: s.sessionId, objects: [], selected: [], reports: [], lastExport: null, error: null, folder: null, title: '', analyst: '' });
    if (s.sessionId) void loadObjects(s.sessionId);
    if (s.sessionId && sessionChanged) void loadReports(s.sessionId);
  };
  check();
  return caseStore.subscribe(check);
}

export function toggleSelected(maskId: string): void {
  reportStore.set((s) => ({ selected: s.selected.includes(maskId) ? s.selected.filter((id) => id !== maskId) : [...s.selected, maskId] }));
}

export async function exportReport(kind: ReportKind): Promise<void> {
  const { sessionId, folder, selected, simplifyM, title, analyst, extentChoice, mapExtent } = reportStore.get();
  if (!sessionId) return;
  const pdf = kind === 'pdf';
  reportStore.set({ exporting: kind, error: null });
  try {
    const r = await client().call('reports.export', {
      sessionId,
      kind,
      simplifyM,
      ...(folder ? { folder: folder.ref } : {}),
      ...(selected.length ? { maskIds: selected } : {}),
      ...(pdf && title.trim() ? { title: title.trim() } : {}),
      ...(pdf && analyst.trim() ? { analyst: analyst.trim() } : {}),
      ...(pdf ? { extent: extentChoice === 'view' && mapExtent ? mapExtent : { kind: 'case' as const } } : {}),
    });
    reportStore.set({ lastExport: r });
    await loadReports(sessionId);
  } catch (e) {
    reportStore.set({ error: `${kind.toUpperCase()} export failed: ${errorText(e)}` });
  } finally {
    reportStore.set({ exporting: null });
  }
}

export async function loadReports(sessionId: string): Promise<void> {
  try {
    const reports = await client().call('reports.list', { sessionId });
    if (reportStore.get().sessionId !== sessionId) return;
    // the fields start from the last PDF's title and analyst until the analyst types others
    const lastPdf = reports.find((r) => r.kind === 'pdf');
    reportStore.set((s) => ({
      reports,
      title: s.title || (lastPdf?.title ?? ''),
      analyst: s.analyst || (lastPdf?.analyst ?? ''),
    }));
  } catch (e) {
    reportStore.set({ error: `could not list the stored reports: ${errorText(e)}` });
  }
}

/** Writes a stored report again, byte for byte, into the chosen folder (or where it went last time). */
export async function rewriteReport(reportId: string): Promise<void> {
  const { folder, sessionId } = reportStore.get();
  try {
    const r = await client().call('reports.rewrite', { reportId, ...(folder ? { folder: folder.ref } : {}) });
    reportStore.set({ lastExport: r, error: null });
    if (sessionId) await loadReports(sessionId);
  } catch (e) {
    reportStore.set({ error: `could not write the report again: ${errorText(e)}` });
  }
}

export async function chooseFolder(): Promise<void> {
  if (modelStore.get().app?.nativeDialogs) {
    try {
      const { ref } = await client().call('files.pick', { purpose: 'folder' });
      if (ref) reportStore.set({ folder: { ref, name: 'chosen folder' } });
    } catch (e) {
      reportStore.set({ error: `could not show the folder dialog: ${errorText(e)}` });
    }
    return;
  }
  reportStore.set((s) => ({ picker: { ...s.picker, open: true, error: null } }));
  await browseFolder({ folder: reportStore.get().picker.listing?.folder.ref });
}

export async function browseFolder(where: { folder?: FileRef | undefined; typedPath?: string }): Promise<void> {
  try {
    const listing = await client().call('files.browse', {
      purpose: 'folder',
      ...(where.folder ? { folder: where.folder } : {}),
      ...(where.typedPath ? { typedPath: where.typedPath } : {}),
    });
    reportStore.set((s) => ({ picker: { ...s.picker, listing, error: null } }));
  } catch (e) {
    reportStore.set((s) => ({ picker: { ...s.picker, error: errorText(e) } }));
  }
}

/** Uses the folder the picker shows now. */
export function pickShownFolder(): void {
  const listing = reportStore.get().picker.listing;
  if (!listing) return;
  reportStore.set((s) => ({ folder: listing.folder, picker: { ...s.picker, open: false } }));
}

export function closeFolderPicker(): void {
  reportStore.set((s) => ({ picker: { ...s.picker, open: false, error: null } }));
}

export function setSimplify(metres: number): void {
  reportStore.set({ simplifyM: Number.isFinite(metres) && metres > 0 ? Math.min(metres, 10_000) : 0 });
}

export function setReportText(field: 'title' | 'analyst', value: string): void {
  reportStore.set(field === 'title' ? { title: value.slice(0, 200) } : { analyst: value.slice(0, 200) });
}

export function setExtentChoice(choice: 'view' | 'case'): void {
  reportStore.set({ extentChoice: choice });
}

/** Called by the map after every move: the extent a "current view" PDF uses. */
export function setMapExtent(extent: ReportExtent | null): void {
  reportStore.set({ mapExtent: extent });
}

export function resetFolder(): void {
  reportStore.set({ folder: null });
}

export function formatArea(o: Pick<MeasuredObject, 'areaM2' | 'areaHa' | 'areaPx'>): string {
  if (o.areaM2 === null) return `${Math.round(o.areaPx).toLocaleString('en-US')} px²`;
  // scene-sized objects read better in km² (as QGIS's measure tool shows them) than in millions of hectares
  if (o.areaM2 >= 100_000_000) return `${(o.areaM2 / 1e6).toLocaleString('en-US', { maximumFractionDigits: 1 })} km²`;
  if (o.areaM2 >= 10_000) return `${o.areaHa!.toLocaleString('en-US', { maximumFractionDigits: 2 })} ha`;
  return `${Math.round(o.areaM2).toLocaleString('en-US')} m²`;
}
