import { pointsBounds, type RegionGeometry } from '../../../main/contract/geometry.js';
import type { FileRef, ImageInfo, MapView, Mask, Region } from '../../../main/contract/schemas.js';
import { emitAppEvent, setBodyState } from '../appEvents.js';
import type { LatLngTuple, Placement } from '../map/imageProjection.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { projectionOf } from './projections.js';

export type Tool = 'point' | 'box' | 'circle' | 'polygon' | 'scribble';
export type MapImage = ImageInfo & { missing?: boolean };
export interface PendingRegion {
  key: string;
  imageId: string;
  geometry: RegionGeometry;
  /** shorter side of the visible map in image pixels when it was drawn (sizes its instant-mask tile) */
  viewSpanPx?: number;
}
export type ViewRequest =
  | { seq: number; kind: 'view'; view: MapView }
  | { seq: number; kind: 'fit'; bounds: [LatLngTuple, LatLngTuple] };
export interface Cursor {
  lat: number;
  lng: number;
  /** image pixel under the cursor, when an image is active */
  px: [number, number] | null;
}

export interface MapState {
  sessionId: string | null;
  images: MapImage[];
  activeImageId: string | null;
  hiddenImageIds: string[];
  pending: PendingRegion[];
  regions: Region[];
  masks: Mask[];
  tool: Tool | null;
  viewRequest: ViewRequest | null;
  focusedMaskId: string | null;
  busy: boolean;
  error: string | null;
}

export const MAX_REGIONS = 8;

export const mapStore = createStore<MapState>({
  sessionId: null,
  images: [],
  activeImageId: null,
  hiddenImageIds: [],
  pending: [],
  regions: [],
  masks: [],
  tool: null,
  viewRequest: null,
  focusedMaskId: null,
  busy: false,
  error: null,
});

let seq = 0;
/** set by the session store: case summaries (image/turn counts) are re-read after changes */
let onCaseChanged: (() => void) | null = null;
export function setCaseChangedListener(fn: () => void): void {
  onCaseChanged = fn;
}
export function caseChanged(): void {
  onCaseChanged?.();
}
let pendingKey = 0;

export function activeImage(s: MapState = mapStore.get()): MapImage | null {
  return s.images.find((i) => i.id === s.activeImageId) ?? null;
}

/** The CRS the map must use: pixel space when the active image has no georeferencing the browser can use. */
export function mapPlacement(s: MapState): Placement {
  const img = activeImage(s);
  return img ? projectionOf(img).placement : 'geo';
}

/** Images drawn on the current map: all geo images on Mercator; only the active one in pixel space. */
export function shownImages(s: MapState): MapImage[] {
  const placement = mapPlacement(s);
  return s.images.filter(
    (i) =>
      !i.missing &&
      !s.hiddenImageIds.includes(i.id) &&
      projectionOf(i).placement === placement &&
      (placement === 'geo' || i.id === s.activeImageId),
  );
}

export function restoreMap(detail: {
  sessionId: string;
  images: MapImage[];
  regions: Region[];
  masks: Mask[];
  view: MapView | null;
}): void {
  const usable = detail.images.filter((i) => !i.missing);
  const active = usable[usable.length - 1] ?? null;
  mapStore.set({
    sessionId: detail.sessionId,
    images: detail.images,
    activeImageId: active?.id ?? null,
    hiddenImageIds: [],
    pending: [],
    regions: detail.regions,
    masks: detail.masks,
    tool: null,
    focusedMaskId: null,
    error: null,
    viewRequest:
      detail.view && (!active || viewShowsImage(detail.view, projectionOf(active).bounds))
        ? { seq: ++seq, kind: 'view', view: detail.view }
        : active
          ? { seq: ++seq, kind: 'fit', bounds: projectionOf(active).bounds }
          : null,
  });
  setBodyState('activeImage', active?.id ?? null);
}

/**
 * A saved view carries no CRS: one saved over a Mercator image means nothing in pixel space and vice versa.
 * Only a view centred on (or near) the active image is restored; otherwise the image is fitted.
 */
export function viewShowsImage(view: MapView, bounds: [LatLngTuple, LatLngTuple]): boolean {
  const [[s, w], [n, e]] = bounds;
  const padLat = n - s, padLng = e - w;
  return view.lat >= s - padLat && view.lat <= n + padLat && view.lng >= w - padLng && view.lng <= e + padLng;
}

export async function openImageFile(file: FileRef): Promise<void> {
  const sessionId = mapStore.get().sessionId;
  if (!sessionId) {
    mapStore.set({ error: 'open or create a case first: images belong to a case' });
    return;
  }
  mapStore.set({ busy: true, error: null });
  try {
    const info = await client().call('imagery.open', { sessionId, file });
    addImage(info);
    emitAppEvent('image-opened');
    onCaseChanged?.();
  } catch (e) {
    mapStore.set({ error: `could not open the image: ${errorText(e)}` });
  } finally {
    mapStore.set({ busy: false });
  }
}

export function addImage(info: ImageInfo): void {
  mapStore.set((s) => ({
    images: [...s.images.filter((i) => i.id !== info.id), info],
    activeImageId: info.id,
    hiddenImageIds: s.hiddenImageIds.filter((id) => id !== info.id),
    pending: [],
    viewRequest: { seq: ++seq, kind: 'fit', bounds: projectionOf(info).bounds },
  }));
  setBodyState('activeImage', info.id);
}

export function setActiveImage(id: string): void {
  const img = mapStore.get().images.find((i) => i.id === id);
  if (!img || img.missing) return;
  mapStore.set((s) => ({
    activeImageId: id,
    pending: [],
    hiddenImageIds: s.hiddenImageIds.filter((h) => h !== id),
    viewRequest: { seq: ++seq, kind: 'fit', bounds: projectionOf(img).bounds },
  }));
  setBodyState('activeImage', id);
}

export function toggleImageVisible(id: string): void {
  mapStore.set((s) => ({
    hiddenImageIds: s.hiddenImageIds.includes(id) ? s.hiddenImageIds.filter((h) => h !== id) : [...s.hiddenImageIds, id],
  }));
}

export function setTool(tool: Tool | null): void {
  mapStore.set((s) => ({ tool: s.tool === tool ? null : tool }));
}

export function addPendingRegion(geometry: RegionGeometry, viewSpanPx?: number): void {
  const s = mapStore.get();
  if (!s.activeImageId) return;
  if (s.pending.length >= MAX_REGIONS) {
    mapStore.set({ error: `at most ${MAX_REGIONS} regions go with one question: clear some first` });
    return;
  }
  const region: PendingRegion = { key: `r${++pendingKey}`, imageId: s.activeImageId, geometry, ...(viewSpanPx ? { viewSpanPx } : {}) };
  mapStore.set({ pending: [...s.pending, region], error: null });
  emitAppEvent('region-drawn');
}

export function clearPendingRegions(): void {
  mapStore.set({ pending: [] });
}

/** After the server stored the user's turn: its regions replace the pending ones. */
export function commitRegions(regions: Region[]): void {
  mapStore.set((s) => ({ pending: [], regions: [...s.regions.filter((r) => !regions.some((n) => n.id === r.id)), ...regions] }));
}

export function addMask(mask: Mask): void {
  mapStore.set((s) => ({ masks: [...s.masks.filter((m) => m.id !== mask.id), mask] }));
}

export function focusMask(maskId: string): void {
  const s = mapStore.get();
  const mask = s.masks.find((m) => m.id === maskId);
  const img = mask && s.images.find((i) => i.id === mask.imageId);
  if (!mask || !img) return;
  const p = projectionOf(img);
  const [x0, y0, x1, y1] = mask.bbox;
  const corners = [p.toLatLng([x0, y0]), p.toLatLng([x1, y1]), p.toLatLng([x0, y1]), p.toLatLng([x1, y0])];
  const [lat0, lng0, lat1, lng1] = pointsBounds(corners);
  mapStore.set({
    focusedMaskId: maskId,
    activeImageId: img.id,
    viewRequest: {
      seq: ++seq,
      kind: 'fit',
      bounds: [[lat0, lng0], [lat1, lng1]],
    },
  });
}

/** Kept apart from mapStore: it changes on every mouse move and only the status bar reads it. */
export const cursorStore = createStore<{ cursor: Cursor | null }>({ cursor: null });

export function setCursor(cursor: Cursor | null): void {
  cursorStore.set({ cursor });
}

let saveTimer: ReturnType<typeof setTimeout> | null = null;

/** moveend fires on every pan step of a drag-zoom: save once the map has been still for a moment. */
export function viewChanged(view: MapView): void {
  const sessionId = mapStore.get().sessionId;
  if (!sessionId) return;
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    saveTimer = null;
    if (mapStore.get().sessionId !== sessionId) return;
    client()
      .call('sessions.saveView', { sessionId, view })
      .catch((e: unknown) => mapStore.set({ error: `could not save the map view: ${errorText(e)}` }));
  }, 300);
}
