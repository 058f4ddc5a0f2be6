import { beforeEach, describe, expect, it } from 'vitest';
import { objectOpacity, objectViewStore, resetObjectView, setObjectOpacity, toggleObjectHidden } from './objectViewStore.js';

describe('object view (hide/show, opacity)', () => {
  beforeEach(resetObjectView);

  it('hides and shows one object without touching the others', () => {
    toggleObjectHidden('a');
    toggleObjectHidden('b');
    toggleObjectHidden('a');
    expect(objectViewStore.get().hidden).toEqual(['b']);
  });

  it('keeps an opacity per object, clamped to 0…1, 1 by default', () => {
    setObjectOpacity('a', 0.25);
    setObjectOpacity('b', 7);
    setObjectOpacity('c', Number.NaN);
    const s = objectViewStore.get();
    expect([objectOpacity(s, 'a'), objectOpacity(s, 'b'), objectOpacity(s, 'c'), objectOpacity(s, 'd')]).toEqual([0.25, 1, 1, 1]);
  });
});
