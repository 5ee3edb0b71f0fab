-- Issue 20: the buyer hears from us, in their language, and the shop says what a buyer needs.
--
-- The outbox carries letters: an HTML alternative beside the plain text, the order whose
-- tickets are attached as a PDF when the message is sent (made then, from the tickets still
-- valid), and a key that lets a message be queued at most once ("confirmation:<order>"): the
-- unique index, not the code, guarantees one confirmation per order.
ALTER TABLE outbox ADD COLUMN html TEXT;
ALTER TABLE outbox ADD COLUMN order_id BIGINT REFERENCES orders (id);
ALTER TABLE outbox ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX outbox_once ON outbox (dedupe_key);
-- "Send me my tickets again": a buyer's orders of an event, by address.
CREATE INDEX orders_buyer ON orders (event_id, LOWER(email));

-- What the shop and the e-mails show of an event: its language (en, de, nl: the e-mails'
-- language and the shop's default), a description, where it is.
ALTER TABLE events ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE events ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN venue_name TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN venue_address TEXT NOT NULL DEFAULT '';
ALTER TABLE ticket_types ADD COLUMN description TEXT NOT NULL DEFAULT '';

-- The organizer's terms and privacy policy, linked from the shop before the buyer pays.
ALTER TABLE organizations ADD COLUMN terms_url TEXT NOT NULL DEFAULT '';
ALTER TABLE organizations ADD COLUMN privacy_url TEXT NOT NULL DEFAULT '';
