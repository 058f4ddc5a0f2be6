import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** Content hash of a file, streamed (images can be gigabytes). */
export async function sha256OfFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}
