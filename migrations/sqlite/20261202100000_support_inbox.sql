-- /paysupport requests that someone reads: each request is linked to the buyer's recent Star
-- charges (the ledger rows it is probably about), routed to the creators of what those charges
-- paid for (and always the admins), and answered through the bot (server/src/support/).
--
-- status: open (nobody answered yet) -> answered (a reply went to the buyer's chat) -> closed.
ALTER TABLE support_requests ADD COLUMN language_code TEXT;
ALTER TABLE support_requests ADD COLUMN answered_at INTEGER;
ALTER TABLE support_requests ADD COLUMN closed_at INTEGER;
ALTER TABLE support_requests ADD COLUMN closed_by INTEGER;
CREATE INDEX support_requests_status ON support_requests (status, id);

-- The buyer's charges the request was linked to when it came in.
CREATE TABLE support_request_charges (
    request_id INTEGER NOT NULL REFERENCES support_requests (id),
    charge_id  TEXT    NOT NULL REFERENCES star_charges (charge_id),
    PRIMARY KEY (request_id, charge_id)
);

-- The creators a request was routed to (admins see every request, so are not listed).
CREATE TABLE support_request_creators (
    request_id INTEGER NOT NULL REFERENCES support_requests (id),
    creator_id INTEGER NOT NULL,
    PRIMARY KEY (request_id, creator_id)
);
CREATE INDEX support_request_creators_creator ON support_request_creators (creator_id, request_id);

-- What the shop answered, in the order it was sent to the buyer's chat.
CREATE TABLE support_replies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id INTEGER NOT NULL REFERENCES support_requests (id),
    author_id  INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX support_replies_request ON support_replies (request_id, id);
