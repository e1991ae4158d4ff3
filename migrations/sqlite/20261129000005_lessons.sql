-- Courses: ordered lessons, some of them free previews, and each buyer's progress through them.

CREATE TABLE lessons (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    -- Order within the course; gaps are allowed so a lesson can move without renumbering the rest.
    position   INTEGER NOT NULL,
    title      TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    body       TEXT    NOT NULL DEFAULT '',         -- Markdown, sanitised when rendered
    -- An attached file or video (a product file of the course); free to anyone when the lesson is a preview.
    file_id    INTEGER REFERENCES product_files (id) ON DELETE SET NULL,
    is_preview INTEGER NOT NULL DEFAULT 0 CHECK (is_preview IN (0, 1)),
    created_at INTEGER NOT NULL DEFAULT (unixepoch()),
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE INDEX lessons_course ON lessons (product_id, position);

-- Lessons a buyer finished. Kept when access ends (a refund, an expired membership), so progress
-- comes back with access.
CREATE TABLE lesson_progress (
    user_id      INTEGER NOT NULL REFERENCES users (id),
    lesson_id    INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    completed_at INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (user_id, lesson_id)
);

-- Where a buyer stopped in each course, so the viewer resumes there.
CREATE TABLE course_positions (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    lesson_id  INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch()),
    PRIMARY KEY (user_id, product_id)
);
