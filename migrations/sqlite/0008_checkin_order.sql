-- A ticket's movements are ordered by the hybrid logical clock of the scan, as every device
-- orders them, not by the device's wall clock: a gate whose clock is ten minutes slow records
-- an exit that happened after an entry with a wall time before it, and the "inside" report
-- must still count that person as outside. Rows from before this column get the HLC their
-- wall time would have had (counter 0).
ALTER TABLE checkins ADD COLUMN hlc BIGINT NOT NULL DEFAULT 0;
UPDATE checkins SET hlc = at * 65536;
