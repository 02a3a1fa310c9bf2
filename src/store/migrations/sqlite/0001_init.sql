-- nanbyo-accounts: the first schema (SQLite). The PostgreSQL twin lives in ../postgres/ and differs only
-- in the id columns; integers are 64-bit and instants are Unix seconds in both.

CREATE TABLE municipalities (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE institutions (
    id              INTEGER PRIMARY KEY,
    code            TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    municipality_id INTEGER NOT NULL REFERENCES municipalities (id),
    created_at      INTEGER NOT NULL
);

CREATE TABLE users (
    id                       INTEGER PRIMARY KEY,
    login_id                 TEXT    NOT NULL UNIQUE,
    user_type                TEXT    NOT NULL CHECK (user_type IN
        ('responsible', 'nanbyo_doctor', 'cooperating_doctor', 'shoman_doctor', 'clerk', 'municipal')),
    db                       TEXT    CHECK (db IN ('nanbyo', 'shoman')),
    institution_id           INTEGER REFERENCES institutions (id),
    municipality_id          INTEGER REFERENCES municipalities (id),
    department               TEXT    NOT NULL,
    department_fold          TEXT    NOT NULL,
    family_name              TEXT    NOT NULL,
    given_name               TEXT    NOT NULL,
    family_kana              TEXT    NOT NULL,
    given_kana               TEXT    NOT NULL,
    name_fold                TEXT    NOT NULL,
    kana_fold                TEXT    NOT NULL,
    medical_reg_no           TEXT,
    email                    TEXT,
    phone                    TEXT,
    remarks                  TEXT,
    expires_on               TEXT,
    password_hash            TEXT,
    password_changed_at      INTEGER,
    temp_password_mac        TEXT,
    temp_password_issued_at  INTEGER,
    temp_password_expires_at INTEGER,
    failed_logins            INTEGER NOT NULL DEFAULT 0,
    locked_at                INTEGER,
    deleted_at               INTEGER,
    created_at               INTEGER NOT NULL,
    created_by               INTEGER REFERENCES users (id),
    updated_at               INTEGER NOT NULL,
    -- an institution account has an institution and a DB; a 自治体担当者 has a municipality
    CHECK ((user_type = 'municipal' AND municipality_id IS NOT NULL AND institution_id IS NULL AND db IS NULL)
        OR (user_type <> 'municipal' AND institution_id IS NOT NULL AND municipality_id IS NULL AND db IS NOT NULL))
);

-- The search screen lists one institution + DB, ordered by フリガナ (the default) or 登録日: these
-- indexes let a page be read in order instead of sorting the whole view, and the first one carries the
-- folded search keys so that counting and filtering by 氏名・フリガナ・部署 never reads the table
-- (benches/search.rs prints the plans).
CREATE INDEX users_institution_db ON users (institution_id, db, user_type);
CREATE INDEX users_view_kana ON users (institution_id, db, deleted_at, kana_fold, name_fold, department_fold, user_type, id);
CREATE INDEX users_view_created ON users (institution_id, db, deleted_at, created_at, id);
CREATE INDEX users_municipality ON users (municipality_id);
CREATE INDEX users_medical_reg_no ON users (db, medical_reg_no) WHERE medical_reg_no IS NOT NULL;

CREATE TABLE sessions (
    id            INTEGER PRIMARY KEY,
    token_hash    TEXT    NOT NULL UNIQUE,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    -- 1 while the session was opened with a temporary password: only /password is open to it
    temporary     INTEGER NOT NULL,
    created_at    INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    client_addr   TEXT
);

CREATE INDEX sessions_user ON sessions (user_id);

-- Append-only, chained: mac = HMAC(key, seq ‖ content ‖ prev_mac).
CREATE TABLE audit_log (
    id              INTEGER PRIMARY KEY,
    seq             INTEGER NOT NULL UNIQUE,
    at              INTEGER NOT NULL,
    actor_user_id   INTEGER,
    actor_label     TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    target_user_id  INTEGER,
    target_label    TEXT,
    institution_id  INTEGER,
    municipality_id INTEGER,
    db              TEXT,
    target_type     TEXT,
    result          TEXT    NOT NULL,
    client_addr     TEXT,
    details         TEXT    NOT NULL,
    prev_mac        TEXT    NOT NULL,
    mac             TEXT    NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_target ON audit_log (target_user_id);
CREATE INDEX audit_log_actor ON audit_log (actor_user_id);
