-- Users, creators and the catalog. Times are Unix seconds (portable to PostgreSQL's BIGINT).

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,              -- the Telegram user id
    first_name    TEXT    NOT NULL,
    last_name     TEXT,
    username      TEXT,
    language_code TEXT,
    is_premium    INTEGER NOT NULL DEFAULT 0 CHECK (is_premium IN (0, 1)),
    created_at    INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at    INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE creators (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id),
    display_name TEXT    NOT NULL,
    bio          TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL DEFAULT (unixepoch())
);

CREATE TABLE products (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    creator_id   INTEGER NOT NULL REFERENCES creators (user_id),
    slug         TEXT    NOT NULL UNIQUE,
    kind         TEXT    NOT NULL CHECK (kind IN ('ebook', 'course', 'file')),
    title        TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description  TEXT    NOT NULL DEFAULT '',
    price_stars  INTEGER NOT NULL CHECK (price_stars BETWEEN 1 AND 100000),
    cover_key    TEXT,                              -- storage key in the public area
    status       TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    created_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at   INTEGER NOT NULL DEFAULT (unixepoch()),
    published_at INTEGER
);

-- The catalog lists published products of a kind, newest first.
CREATE INDEX products_catalog ON products (status, kind, published_at DESC);
CREATE INDEX products_creator ON products (creator_id);

CREATE TABLE product_files (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- 'content' is what buyers pay for (private area); 'sample' is free (public area).
    role        TEXT    NOT NULL CHECK (role IN ('content', 'sample')),
    file_name   TEXT    NOT NULL,
    mime_type   TEXT    NOT NULL,
    size_bytes  INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256      TEXT    NOT NULL,
    storage_key TEXT    NOT NULL,
    created_at  INTEGER NOT NULL DEFAULT (unixepoch()),
    UNIQUE (product_id, role, file_name)
);

CREATE INDEX product_files_product ON product_files (product_id, role);
