import { z } from 'zod';
import { HEX_COLOUR } from '../objectStyle.js';
import { Id, Mask } from '../schemas.js';
import { call } from './define.js';

/**
 * The case's objects as the analyst manages them (masks, and any object kind stored with them): kept in the case,
 * so the map, the object list, the legend and every export follow.
 */
export const maskCalls = {
  /** renames an object (label null or blank: back to its derived name) and/or sets its colour (#rrggbb) */
  'masks.update': call(
    z
      .object({
        maskId: Id,
        label: z.string().max(200).nullable().optional(),
        colour: z.string().toLowerCase().regex(HEX_COLOUR, 'a colour is #rrggbb').optional(),
      })
      .strict(),
    Mask,
  ),
  /** deletes an object: gone from the map, the object list and exports; masks.restore brings it back as it was */
  'masks.delete': call(z.object({ maskId: Id }).strict(), z.object({ ok: z.literal(true), mask: Mask })),
  'masks.restore': call(z.object({ maskId: Id }).strict(), Mask),
} as const;
