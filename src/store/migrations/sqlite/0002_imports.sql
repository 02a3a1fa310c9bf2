-- CSV一括登録の履歴 (DESIGN §9): who imported which file, from where, and how it ended. The content hash
-- of every committed file is unique, so the same file is never registered twice.
CREATE TABLE imports (
    id            INTEGER PRIMARY KEY,
    content_hash  TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    origin        TEXT    NOT NULL,
    actor_user_id INTEGER REFERENCES users (id),
    at            INTEGER NOT NULL,
    rows          INTEGER NOT NULL,
    result        TEXT    NOT NULL
);

CREATE UNIQUE INDEX imports_committed_hash ON imports (content_hash) WHERE result = 'committed';

-- A previewed file waits here for its confirmation (no passwords: an import never holds one). Removed at
-- commit, and after a day.
CREATE TABLE import_staging (
    id            INTEGER PRIMARY KEY,
    actor_user_id INTEGER NOT NULL REFERENCES users (id),
    content_hash  TEXT    NOT NULL,
    file_name     TEXT    NOT NULL,
    content       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);
