-- Exports made from a case (GeoJSON, GeoPackage, PDF): kept in the case file so they can be written out again
-- exactly as delivered, even after the folder they went to is gone.
CREATE TABLE reports (
  id          TEXT PRIMARY KEY,
  session_id  TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  kind        TEXT NOT NULL CHECK (kind IN ('geojson', 'gpkg', 'pdf')),
  file_name   TEXT NOT NULL,
  path        TEXT,            -- where it was last written
  created_at  TEXT NOT NULL,
  options_json TEXT NOT NULL,  -- what was asked: selected masks, simplification, analyst, title
  bytes       BLOB NOT NULL,
  sha256      TEXT NOT NULL,
  feature_count INTEGER NOT NULL
);
CREATE INDEX reports_session ON reports(session_id, created_at);
