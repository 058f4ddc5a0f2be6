import { z } from 'zod';
import { Id, MapView, SessionDetail, SessionSummary } from '../schemas.js';
import { call, empty, ok } from './define.js';

export const sessionCalls = {
  'sessions.list': call(empty, z.array(SessionSummary)),
  'sessions.create': call(z.object({ name: z.string().min(1).max(200) }).strict(), SessionSummary),
  'sessions.open': call(z.object({ sessionId: Id }).strict(), SessionDetail),
  'sessions.saveView': call(z.object({ sessionId: Id, view: MapView }).strict(), ok),
} as const;
