-- The reader (issue #18): where each buyer stopped in each PDF or EPUB they read in the Mini App,
-- kept on the server so another phone or Telegram Desktop opens the same page. One row per buyer
-- and file, overwritten as they turn pages; the position is the viewer's own ("page:<n>" for a
-- PDF, an EPUB CFI), at most 1 KiB.
-- The same schema as migrations/sqlite/20261205200000_reading_positions.sql.

CREATE TABLE reading_positions (
    user_id    BIGINT  NOT NULL REFERENCES users (id),
    file_id    BIGINT  NOT NULL REFERENCES product_files (id) ON DELETE CASCADE,
    position   TEXT    NOT NULL CHECK (length(position) <= 1024),
    updated_at BIGINT  NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (user_id, file_id)
);
