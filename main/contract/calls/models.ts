import { z } from 'zod';
import { ModelStatus, PackInfo } from '../schemas.js';
import { call, empty } from './define.js';

export const modelCalls = {
  'models.status': call(empty, ModelStatus),
  'models.list': call(empty, z.array(PackInfo)),
} as const;
