import { z } from 'zod';
import { RegionGeometry } from '../geometry.js';
import { ChatEvent, Id } from '../schemas.js';
import { stream } from './define.js';

export const chatCalls = {
  'chat.ask': stream(
    z
      .object({
        sessionId: Id,
        imageId: Id,
        text: z.string().min(1).max(8000),
        regions: z.array(RegionGeometry).max(8),
        mode: z.enum(['chat', 'ground']).default('chat'),
        maxNewTokens: z.number().int().min(1).max(2048).default(64),
      })
      .strict(),
    ChatEvent,
  ),
} as const;
