-- Case files: one session = one case. Geometries of regions are stored in image pixels (the contract's space).
CREATE TABLE sessions (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  view_json   TEXT            -- last map view {lat,lng,zoom}
);

CREATE TABLE images (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  path        TEXT NOT NULL,
  sha256      TEXT NOT NULL,
  size_bytes  INTEGER NOT NULL,
  facts_json  TEXT NOT NULL,  -- ImageInfo facts as read at open (width, height, crs, geotransform, ...)
  display_json TEXT,          -- display settings (stretch, bands, opacity, order)
  position    INTEGER NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX images_session ON images(session_id, position);

CREATE TABLE turns (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  image_id    TEXT REFERENCES images(id) ON DELETE SET NULL,
  seq         INTEGER NOT NULL,
  role        TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
  text        TEXT NOT NULL,
  status      TEXT NOT NULL CHECK (status IN ('complete', 'streaming', 'cancelled', 'failed')),
  created_at  TEXT NOT NULL,
  duration_ms REAL,
  pack_name   TEXT,
  pack_version TEXT,
  pack_sha256 TEXT,
  provider    TEXT,
  UNIQUE (session_id, seq)
);

CREATE TABLE regions (
  id          TEXT PRIMARY KEY,
  turn_id     TEXT NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
  image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('point', 'box', 'circle', 'scribble', 'polygon')),
  label       TEXT NOT NULL,
  geometry_json TEXT NOT NULL, -- RegionGeometry in image pixels
  wgs84_json  TEXT             -- the same geometry in lon/lat when the image is georeferenced
);
CREATE INDEX regions_turn ON regions(turn_id);

CREATE TABLE masks (
  id          TEXT PRIMARY KEY,
  turn_id     TEXT NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
  image_id    TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
  region_id   TEXT REFERENCES regions(id) ON DELETE SET NULL,
  phrase      TEXT,
  score       REAL NOT NULL,
  bbox_json   TEXT NOT NULL,   -- [x0,y0,x1,y1] image pixels
  rle_json    TEXT NOT NULL,   -- {width,height,origin:[x,y],runs:[...]} row-major run lengths starting with 0s
  polygons_json TEXT NOT NULL, -- outlines in image pixels (pixel-edge following)
  area_px     REAL NOT NULL,
  created_at  TEXT NOT NULL
);
CREATE INDEX masks_turn ON masks(turn_id);

CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
