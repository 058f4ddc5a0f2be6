import type { OverviewBuild, PixelInfo, SourceDecision, SourceKind } from '../../../main/contract/calls/imagery.js';
import { DEFAULT_LAYER, type ImageDisplay, type LayerSettings } from '../../../main/contract/imageDisplay.js';
import { caseStore, hideImage, setImageOrder } from './caseStore.js';
import { client, errorText } from './clientRef.js';
import { createStore } from './createStore.js';
import { cursorStore, setCursor } from './mapStore.js';

/**
 * Per-image look (display settings, layer opacity/visibility) as the backend stores it, the swipe comparison
 * and the pixel under the cursor. Kept apart from the case (caseStore): it is loaded lazily per image.
 */
export interface DisplayState {
  displays: Record<string, ImageDisplay>;
  layers: Record<string, LayerSettings>;
  /** swipe: the top image is shown only left of the divider (fraction of the map width) */
  swipe: { imageId: string; position: number } | null;
  pixel: PixelInfo | null;
  error: string | null;
  /** background overview builds of large striped images (shown as a progress bar on the layer) */
  overviews: Record<string, OverviewBuild>;
  /** what each image is and what its values mean, as the imagery service decided (or the analyst chose) */
  sources: Record<string, SourceDecision>;
}

export const displayStore = createStore<DisplayState>({ displays: {}, layers: {}, swipe: null, pixel: null, error: null, overviews: {}, sources: {} });

const loading = new Set<string>();

/** Reads display + layer settings of images the map has not seen yet. */
function loadMissing(): void {
  const { images } = caseStore.get();
  const { displays } = displayStore.get();
  for (const img of images) {
    if (img.missing || displays[img.id] || loading.has(img.id)) continue;
    loading.add(img.id);
    client()
      .call('imagery.info', { imageId: img.id })
      .then((info) => {
        displayStore.set((s) => ({
          displays: { ...s.displays, [img.id]: info.display },
          layers: { ...s.layers, [img.id]: info.layer },
          overviews: { ...s.overviews, [img.id]: info.overviewBuild },
          sources: { ...s.sources, [img.id]: info.sourceDecision },
        }));
        if (info.overviewBuild.state === 'building') pollOverview(img.id);
        // a stored hidden layer stays hidden after reopening the case
        if (!info.layer.visible) hideImage(img.id);
      })
      .catch((e: unknown) => displayStore.set({ error: `could not read the display of ${img.name}: ${errorText(e)}` }))
      .finally(() => loading.delete(img.id));
  }
}

const OVERVIEW_POLL_MS = 1000;
/** Follows a background overview build until it settles (the image may be closed meanwhile: then it stops). */
function pollOverview(imageId: string): void {
  setTimeout(() => {
    if (!caseStore.get().images.some((i) => i.id === imageId)) return;
    client()
      .call('imagery.info', { imageId })
      .then((info) => {
        displayStore.set((s) => ({ overviews: { ...s.overviews, [imageId]: info.overviewBuild } }));
        if (info.overviewBuild.state === 'building') pollOverview(imageId);
      })
      .catch(() => undefined); // the image went away: nothing left to show
  }, OVERVIEW_POLL_MS);
}

/** Starts following the case's images and the cursor (once, at start-up). */
export function startDisplayStore(): void {
  caseStore.subscribe(loadMissing);
  caseStore.subscribe(activeImageChanged);
  cursorStore.subscribe(pixelRequested);
  loadMissing();
}

/**
 * Tiles of one image (the imagery.tile resource); `version` (the display's) keeps browser caches honest; `pad`
 * extra rows/columns of the next tiles (the map's layers overlap their tiles by them: no seams when drawn scaled).
 */
export function imageTileUrl(imageId: string, coords: { z: number; x: number; y: number }, version?: string, pad = 0): string {
  return client().resourceUrl('imagery.tile', { imageId, z: coords.z, x: coords.x, y: coords.y, ...(version ? { v: version } : {}), ...(pad ? { pad } : {}) });
}

export function layerOf(id: string): LayerSettings {
  return displayStore.get().layers[id] ?? DEFAULT_LAYER;
}

export async function setDisplay(imageId: string, display: ImageDisplay): Promise<void> {
  try {
    const r = await client().call('imagery.setDisplay', { imageId, display });
    displayStore.set((s) => ({ displays: { ...s.displays, [imageId]: r.display }, error: null }));
  } catch (e) {
    displayStore.set({ error: `could not change the display: ${errorText(e)}` });
  }
}

/** The analyst's choice of source kind (null: the decided one); the display becomes that kind's default. */
export async function setSourceKind(imageId: string, kind: SourceKind | null): Promise<void> {
  try {
    const r = await client().call('imagery.setSourceKind', { imageId, kind });
    displayStore.set((s) => ({ displays: { ...s.displays, [imageId]: r.display }, sources: { ...s.sources, [imageId]: r.sourceDecision }, error: null }));
  } catch (e) {
    displayStore.set({ error: `could not change the source kind: ${errorText(e)}` });
  }
}

/** The analyst's statement of how a SAR image is stored (null: as decided), kept in the case apart from the kind. */
export async function setSarScale(imageId: string, scale: 'db' | 'linear' | 'amplitude' | null): Promise<void> {
  try {
    const r = await client().call('imagery.setSarScale', { imageId, scale });
    displayStore.set((s) => ({ displays: { ...s.displays, [imageId]: r.display }, sources: { ...s.sources, [imageId]: r.sourceDecision }, error: null }));
    // the inspector's calibrated value follows the new scale
    if (caseStore.get().activeImageId === imageId) refreshPixel();
  } catch (e) {
    displayStore.set({ error: `could not change the SAR scale: ${errorText(e)}` });
  }
}

const layerTimers = new Map<string, ReturnType<typeof setTimeout>>();
/** Applies at once on the map; saved once the slider has been still for a moment. */
export function setLayer(imageId: string, patch: Partial<LayerSettings>): void {
  const layer = { ...layerOf(imageId), ...patch };
  displayStore.set((s) => ({ layers: { ...s.layers, [imageId]: layer } }));
  clearTimeout(layerTimers.get(imageId));
  layerTimers.set(
    imageId,
    setTimeout(() => {
      layerTimers.delete(imageId);
      client()
        .call('imagery.setLayer', { imageId, layer: layerOf(imageId) })
        .catch((e: unknown) => displayStore.set({ error: `could not save the layer: ${errorText(e)}` }));
    }, 250),
  );
}

export function setSwipe(swipe: DisplayState['swipe']): void {
  displayStore.set({ swipe });
}

/** Moves an image one place up (towards the top of the stack) or down, and saves the order. */
export function moveLayer(imageId: string, dir: 'up' | 'down'): void {
  const { images, sessionId } = caseStore.get();
  const i = images.findIndex((m) => m.id === imageId);
  const j = dir === 'up' ? i + 1 : i - 1;
  if (i < 0 || j < 0 || j >= images.length || !sessionId) return;
  const next = [...images];
  [next[i], next[j]] = [next[j]!, next[i]!];
  setImageOrder(next);
  client()
    .call('imagery.setOrder', { sessionId, imageIds: next.map((m) => m.id) })
    .catch((e: unknown) => displayStore.set({ error: `could not save the layer order: ${errorText(e)}` }));
}

/* Pixel inspector: one request in flight at a time; the latest cursor position wins; same pixel is not re-read. */
let inFlight = false;
let wanted: { imageId: string; x: number; y: number } | null = null;
let lastKey = '';
let activeSeen: string | null = null;

/**
 * Another active image: the inspector's pixel (values, CRS) and the cursor's pixel position belonged to the
 * previous one, so both go (the view may move with the switch: where the cursor points is known again at its next
 * move); a request still in flight for the old image is not shown.
 */
function activeImageChanged(): void {
  const id = caseStore.get().activeImageId;
  if (id === activeSeen) return;
  activeSeen = id;
  wanted = null;
  lastKey = '';
  const c = cursorStore.get().cursor;
  if (c?.px) setCursor({ ...c, px: null });
  displayStore.set({ pixel: null });
}

/** Forgets the shown pixel and reads the one under the cursor again (active image or its calibration changed). */
function refreshPixel(): void {
  lastKey = '';
  displayStore.set({ pixel: null });
  pixelRequested();
}

function pixelRequested(): void {
  const c = cursorStore.get().cursor;
  const imageId = caseStore.get().activeImageId;
  if (!c?.px || !imageId) {
    wanted = null;
    return;
  }
  const x = Math.floor(c.px[0]);
  const y = Math.floor(c.px[1]);
  const key = `${imageId}:${x}:${y}`;
  if (key === lastKey) return;
  lastKey = key;
  wanted = { imageId, x, y };
  if (!inFlight) void pump();
}

async function pump(): Promise<void> {
  inFlight = true;
  try {
    while (wanted) {
      const w = wanted;
      wanted = null;
      try {
        const pixel = await client().call('imagery.pixel', w);
        // an answer about an image that is no longer the active one (switched meanwhile) is not shown
        if (caseStore.get().activeImageId === w.imageId && `${w.imageId}:${w.x}:${w.y}` === lastKey) displayStore.set({ pixel });
      } catch (e) {
        displayStore.set({ pixel: null, error: `could not read the pixel: ${errorText(e)}` });
      }
    }
  } finally {
    inFlight = false;
  }
}
