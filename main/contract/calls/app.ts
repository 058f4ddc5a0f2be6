import { z } from 'zod';
import { call, empty } from './define.js';

export const appCalls = {
  'app.status': call(
    empty,
    z.object({
      version: z.string(),
      mode: z.enum(['electron', 'browser']),
      /** native dialogs exist (Electron); otherwise the backend file browser is used */
      nativeDialogs: z.boolean(),
    }),
  ),
} as const;
