import { createStore } from './createStore.js';

/** The offline world context drawn on every geographic map: Natural Earth land/coast/borders, graticule, place names, scale bar. */
export interface WorldState {
  world: boolean;
  graticule: boolean;
  places: boolean;
  scale: boolean;
}

const KEY = 'vantage.worldContext';
const DEFAULTS: WorldState = { world: true, graticule: true, places: true, scale: true };

/** Remembered in this browser profile (the app's own origin); a profile without storage starts from the defaults. */
function load(): WorldState {
  try {
    const raw = globalThis.localStorage?.getItem(KEY);
    if (!raw) return DEFAULTS;
    const v = JSON.parse(raw) as Partial<Record<keyof WorldState, unknown>>;
    return {
      world: typeof v.world === 'boolean' ? v.world : DEFAULTS.world,
      graticule: typeof v.graticule === 'boolean' ? v.graticule : DEFAULTS.graticule,
      places: typeof v.places === 'boolean' ? v.places : DEFAULTS.places,
      scale: typeof v.scale === 'boolean' ? v.scale : DEFAULTS.scale,
    };
  } catch {
    return DEFAULTS;
  }
}

export const worldStore = createStore<WorldState>(load());

export function setWorldLayer(key: keyof WorldState, on: boolean): void {
  worldStore.set({ [key]: on });
  try {
    globalThis.localStorage?.setItem(KEY, JSON.stringify(worldStore.get()));
  } catch {
    // storage full or disabled: the choice holds for this session
  }
}
