/**
 * Child process for the durability and concurrency tests (bundled by db/durability.int.test.ts): writes questions,
 * masks and finished answers through the real openDatabase + CaseRepository, and prints one line per acknowledged
 * write only after its transaction has committed — exactly what the UI is told ("saved") — so the parent can kill it
 * at any moment and check that everything acknowledged is on disk.
 *
 * usage: node durabilityWriter.mjs DB_FILE LABEL [COUNT]   (COUNT absent: write until killed)
 * stdout: "ready <sessionId>", then "turn <userTurnId> <assistantTurnId>", "mask <maskId>", "done <assistantTurnId>"
 */
import { openDatabase } from './database.js';
import { CaseRepository } from './repository.js';

const [file, label = 'writer', countArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: durabilityWriter DB_FILE LABEL [COUNT]\n');
  process.exit(2);
}
const limit = countArg === undefined ? Infinity : Number(countArg);
// Pipes are synchronous on Linux: a line written here has reached the parent before the next write starts.
const say = (line: string) => process.stdout.write(line + '\n');

const db = openDatabase(file);
const repo = new CaseRepository(db);
const session = repo.createSession(`durability ${label} ${process.pid}`);
const image = repo.addImage(session.id, { path: `/nowhere/${label}.tif`, sha256: `sha-${label}-${process.pid}`, sizeBytes: 1, facts: { width: 512, height: 512 } });
say(`ready ${session.id}`);

// A mask big enough that writes span several pages (the WAL grows and checkpoints while the child is killed).
const runs = Array.from({ length: 400 }, (_, i) => 1 + ((i * 37) % 50));
for (let i = 0; i < limit; i++) {
  const q = repo.addQuestion({
    sessionId: session.id,
    imageId: image.id,
    text: `question ${i} from ${label}: what is in <region1>?`,
    regions: [{ geometry: { kind: 'box', x0: i % 100, y0: 1, x1: (i % 100) + 10, y1: 20 }, wgs84: null }],
  });
  say(`turn ${q.userTurn.id} ${q.assistantTurnId}`);
  const m = repo.addMask({
    turnId: q.assistantTurnId,
    imageId: image.id,
    regionId: q.regions[0]!.id,
    phrase: 'roof',
    score: 0.5,
    bbox: [0, 0, 10, 10],
    rle: { width: 100, height: 100, origin: [0, 0], runs },
    polygons: [[[[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]]],
    areaPx: 100,
  });
  say(`mask ${m.id}`);
  repo.finishTurn(q.assistantTurnId, { text: `answer ${i} `.repeat(20), status: 'complete', durationMs: 1, pack: null, provider: 'cpu' });
  say(`done ${q.assistantTurnId}`);
}
db.close();
