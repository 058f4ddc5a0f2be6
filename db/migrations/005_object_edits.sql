-- Objects the analyst manages (masks and any later object kind stored in this table): a name given by the analyst
-- (NULL: the derived one, main/contract/objectStyle.ts), a colour kept from creation so a new object never repaints
-- an older one, and a soft delete (undo restores; purged with deleted cases after 30 days).
ALTER TABLE masks ADD COLUMN label TEXT;
ALTER TABLE masks ADD COLUMN colour TEXT;
ALTER TABLE masks ADD COLUMN deleted_at TEXT;
-- masks stored before keep the colour they were drawn in: the palette by their place in the case (turn, then mask)
UPDATE masks SET colour = '#' || substr('ff9f1c2ec4b6e71d36a06cd58ac926ffca3a1982c4ff595e', 1 + 6 * (o.n % 8), 6)
FROM (SELECT m.id, row_number() OVER (PARTITION BY t.session_id ORDER BY t.seq, m.rowid) - 1 AS n
      FROM masks m JOIN turns t ON t.id = m.turn_id) AS o
WHERE o.id = masks.id;
