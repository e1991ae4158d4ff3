-- Video lessons (issue #18). A creator uploads a video to a lesson; a background job prepares it
-- for streaming (poster frame, duration, an HLS ladder) and only then does the lesson play it.
-- A job that fails leaves the lesson as it was: the lesson's current video is its own row,
-- replaced in the same transaction that marks the next job ready.
-- The same schema as migrations/postgres/20261206100000_video_lessons.sql.

-- The preparation queue, kept in the database so that a restart (or another replica) picks up
-- what a stopped process was doing: a job whose lease ran out is claimed again.
CREATE TABLE video_jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    lesson_id    INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    -- The upload as it came, in the private area.
    source_key   TEXT    NOT NULL,
    source_bytes INTEGER NOT NULL CHECK (source_bytes >= 0),
    status       TEXT    NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'preparing', 'ready', 'failed')),
    progress     INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
    -- Why a failed job failed, as the studio explains it.
    failure      TEXT CHECK (failure IN ('unreadable', 'no_video', 'too_long', 'stopped')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    -- While preparing: the claim runs out here unless the worker renews it.
    lease_until  INTEGER,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX video_jobs_pending ON video_jobs (status, id);
CREATE INDEX video_jobs_by_lesson ON video_jobs (lesson_id, id);

-- What a lesson plays: the files of the job that prepared it, under
-- <prefix>/master.m3u8 in the private area (served only through signed stream URLs).
CREATE TABLE lesson_videos (
    lesson_id    INTEGER PRIMARY KEY REFERENCES lessons (id) ON DELETE CASCADE,
    job_id       INTEGER NOT NULL REFERENCES video_jobs (id),
    prefix       TEXT    NOT NULL,
    -- A frame of the video, in the public area.
    poster_key   TEXT    NOT NULL,
    duration_ms  INTEGER NOT NULL CHECK (duration_ms >= 0),
    width        INTEGER NOT NULL,
    height       INTEGER NOT NULL,
    ready_at     INTEGER NOT NULL
);

-- Where each buyer stopped in each video lesson, so any device resumes there.
CREATE TABLE video_positions (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    lesson_id  INTEGER NOT NULL REFERENCES lessons (id) ON DELETE CASCADE,
    seconds    INTEGER NOT NULL CHECK (seconds >= 0),
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, lesson_id)
);
