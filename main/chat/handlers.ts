import type { Handlers } from '../contract/procedures.js';
import type { ChatService } from './chatService.js';

/** chat.ask: one question, answered as a stream (the mask calls are masks/handlers.ts). */
export function chatHandlers(chat: ChatService): Pick<Handlers, 'chat.ask'> {
  return {
    'chat.ask': (i, emit, signal) => chat.ask(i, emit, signal),
  };
}
