import { pointsBounds, type RegionGeometry } from '../../../main/contract/geometry.js';
import type { FileRef, ImageInfo, MapView } from '../../../main/contract/schemas.js';
import { emitAppEvent } from '../appEvents.js';
import type { LatLngTuple, Placement } from '../map/imageProjection.js';
import { activeImage, addImage, caseChanged, caseStore, selectImage, setCaseError, type CaseImage, type CaseState } from './caseStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { chooseFor } from './fileBrowserStore.js';
import { projectionOf } from './projections.js';

/**
 * The map over the open case (caseStore): the drawing tool, the regions drawn for the next question, the view the
 * map is asked to show, and the cursor. Actions that change the case's active image move the view with it.
 */
export type Tool = 'point' | 'box' | 'circle' | 'polygon' | 'scribble';
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
  tool: Tool | null;
  pending: PendingRegion[];
  viewRequest: ViewRequest | null;
}

export const MAX_REGIONS = 8;

export const mapStore = createStore<MapState>({ tool: null, pending: [], viewRequest: null });

let seq = 0;
let pendingKey = 0;

const fitTo = (bounds: [LatLngTuple, LatLngTuple]): ViewRequest => ({ seq: ++seq, kind: 'fit', bounds });

/** The CRS the map must use: pixel space when the active image has no georeferencing the browser can use. */
export function mapPlacement(s: CaseState): Placement {
  const img = activeImage(s);
  return img ? projectionOf(img).placement : 'geo';
}

/** Images drawn on the current map: all geo images on Mercator; only the active one in pixel space. */
export function shownImages(s: CaseState): CaseImage[] {
  const placement = mapPlacement(s);
  return s.images.filter(
    (i) =>
      !i.missing &&
      !s.hiddenImageIds.includes(i.id) &&
      projectionOf(i).placement === placement &&
      (placement === 'geo' || i.id === s.activeImageId),
  );
}

/** After a case was opened (caseStore.showCase): no tool, nothing drawn, its saved view or its active image. */
export function showCaseView(view: MapView | null): void {
  const active = activeImage();
  mapStore.set({
    tool: null,
    pending: [],
    viewRequest:
      view && (!active || viewShowsImage(view, projectionOf(active).bounds))
        ? { seq: ++seq, kind: 'view', view }
        : active
          ? fitTo(projectionOf(active).bounds)
          : null,
  });
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

/** Opens an image file into the open case and fits the map to it. */
export async function openImageFile(file: FileRef): Promise<void> {
  const sessionId = caseStore.get().sessionId;
  if (!sessionId) {
    setCaseError('open or create a case first: images belong to a case');
    return;
  }
  caseStore.set({ busy: true, error: null });
  try {
    const info = await client().call('imagery.open', { sessionId, file });
    showImage(info);
    emitAppEvent('image-opened');
    caseChanged();
  } catch (e) {
    setCaseError(`could not open the image: ${errorText(e)}`);
  } finally {
    caseStore.set({ busy: false });
  }
}

/** The toolbar's "Open image": the native dialog where one exists, the in-app browser otherwise. */
export async function chooseImage(): Promise<void> {
  await chooseFor('image', 'Open image', openImageFile);
}

function showImage(info: ImageInfo): void {
  addImage(info);
  mapStore.set({ pending: [], viewRequest: fitTo(projectionOf(info).bounds) });
}

export function setActiveImage(id: string): void {
  const img = selectImage(id);
  if (img) mapStore.set({ pending: [], viewRequest: fitTo(projectionOf(img).bounds) });
}

/** Click on a mask (chip, object row): highlights it and zooms to it, on its own image. */
export function focusMask(maskId: string): void {
  const s = caseStore.get();
  const mask = s.masks.find((m) => m.id === maskId);
  const img = mask && s.images.find((i) => i.id === mask.imageId);
  if (!mask || !img) return;
  const p = projectionOf(img);
  const [x0, y0, x1, y1] = mask.bbox;
  const corners = [p.toLatLng([x0, y0]), p.toLatLng([x1, y1]), p.toLatLng([x0, y1]), p.toLatLng([x1, y0])];
  const [lat0, lng0, lat1, lng1] = pointsBounds(corners);
  caseStore.set({ focusedMaskId: maskId, activeImageId: img.id });
  mapStore.set({ viewRequest: fitTo([[lat0, lng0], [lat1, lng1]]) });
}

export function setTool(tool: Tool | null): void {
  mapStore.set((s) => ({ tool: s.tool === tool ? null : tool }));
}

export function addPendingRegion(geometry: RegionGeometry, viewSpanPx?: number): void {
  const imageId = caseStore.get().activeImageId;
  const s = mapStore.get();
  if (!imageId) return;
  if (s.pending.length >= MAX_REGIONS) {
    setCaseError(`at most ${MAX_REGIONS} regions go with one question: clear some first`);
    return;
  }
  const region: PendingRegion = { key: `r${++pendingKey}`, imageId, geometry, ...(viewSpanPx ? { viewSpanPx } : {}) };
  mapStore.set({ pending: [...s.pending, region] });
  setCaseError(null);
  emitAppEvent('region-drawn');
}

export function clearPendingRegions(): void {
  mapStore.set({ pending: [] });
}

/** One drawn region went with a question that is now stored: it shows as a stored region from now on. */
export function removePendingRegion(key: string): void {
  mapStore.set((s) => ({ pending: s.pending.filter((r) => r.key !== key) }));
}

/** Kept apart from mapStore: it changes on every mouse move and only the status bar and pixel inspector read it. */
export const cursorStore = createStore<{ cursor: Cursor | null }>({ cursor: null });

export function setCursor(cursor: Cursor | null): void {
  cursorStore.set({ cursor });
}

let saveTimer: ReturnType<typeof setTimeout> | null = null;

/** moveend fires on every pan step of a drag-zoom: save once the map has been still for a moment. */
export function viewChanged(view: MapView): void {
  const sessionId = caseStore.get().sessionId;
  if (!sessionId) return;
  if (saveTimer) clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    saveTimer = null;
    if (caseStore.get().sessionId !== sessionId) return;
    client()
      .call('sessions.saveView', { sessionId, view })
      .catch((e: unknown) => setCaseError(`could not save the map view: ${errorText(e)}`));
  }, 300);
}
