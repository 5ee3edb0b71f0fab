-- Issue 22: seats leased to a box office. A leased seat belongs to one lease (`lease_id`) and
-- to no online order: only a conditional `UPDATE … SET state = 'leased' WHERE state = 'free'`
-- takes it, and holds take only free seats. Sold at the door, it keeps the lease it came from.
ALTER TABLE seats ADD COLUMN lease_id BIGINT REFERENCES leases (id);
ALTER TABLE seats DROP CONSTRAINT seats_state_check;
ALTER TABLE seats ADD CONSTRAINT seats_state_check
    CHECK (state IN ('free', 'held', 'sold', 'blocked', 'leased'));
ALTER TABLE seats ADD CONSTRAINT seats_leased_names_its_lease CHECK (state <> 'leased' OR lease_id IS NOT NULL);
CREATE INDEX seats_lease ON seats (lease_id);
