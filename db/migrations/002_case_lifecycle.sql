-- Case lifecycle: a deleted case is kept (soft delete) so the user can undo; it is purged after 30 days or on request.
ALTER TABLE sessions ADD COLUMN deleted_at TEXT;
CREATE INDEX sessions_deleted ON sessions(deleted_at, updated_at);
-- Search by image name and turn text: turns are listed per case by seq (UNIQUE index); images by session (index).
-- Where an image was relinked from (the previous path), for the record.
ALTER TABLE images ADD COLUMN relinked_from TEXT;
-- Image bytes embedded in an exported case file (.vantage = a SQLite database with this same schema), in chunks so
-- images larger than SQLite's 1 GB value limit fit. Empty in the app's own database.
CREATE TABLE case_assets (
  sha256  TEXT NOT NULL,
  chunk   INTEGER NOT NULL,
  bytes   BLOB NOT NULL,
  PRIMARY KEY (sha256, chunk)
);
