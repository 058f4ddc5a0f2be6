"""GDAL's side of `npm run bench:imagery`'s window reads, in one long-lived process (no process start in its time).

Reads JSON lines {"file", "windows": [[x, y, w, h], ...], "threads": n} from stdin; for each, opens the dataset
afresh (an empty block cache, as our side opens its source afresh), times ReadAsArray of every window (all bands,
band-sequential in memory, as ours), then hashes the pixels outside the timing and frees them (our side gives its
buffers back at the same point: tiffBlocks.ts recycleBands). Replies one JSON line:
{"seconds", "bytes", "sha256"} or {"error"}.
"""
import hashlib
import json
import sys
import time

from osgeo import gdal

gdal.UseExceptions()

for line in sys.stdin:
    try:
        req = json.loads(line)
        gdal.SetConfigOption('GDAL_NUM_THREADS', str(req['threads']))
        ds = gdal.Open(req['file'])
        t0 = time.perf_counter()
        arrays = [ds.ReadAsArray(x, y, w, h) for x, y, w, h in req['windows']]
        seconds = time.perf_counter() - t0
        h = hashlib.sha256()
        for a in arrays:
            h.update(a.tobytes())  # (bands, rows, cols) C order: band after band
        ds = None
        reply = {'seconds': seconds, 'bytes': sum(a.nbytes for a in arrays), 'sha256': h.hexdigest()}
        del arrays  # freed now, as ours are given back after hashing: the next read may reuse the memory
    except Exception as e:  # noqa: BLE001 - reported to the bench, which stops
        reply = {'error': str(e)}
    sys.stdout.write(json.dumps(reply) + '\n')
    sys.stdout.flush()
