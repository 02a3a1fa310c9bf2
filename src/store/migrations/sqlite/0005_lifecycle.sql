-- Account lifecycle (DESIGN §13, issue 12): the last successful login, when an account entered
-- 通知書未発行, and the アカウント棚卸し records. SQLite; the PostgreSQL twin in ../postgres/ differs
-- only in types.

-- Set inside the login's write transaction (service/auth.rs). Older logins are taken from the audit
-- chain, which has recorded every successful login from the start.
ALTER TABLE users ADD COLUMN last_login_at INTEGER;
UPDATE users SET last_login_at = (SELECT MAX(a.at) FROM audit_log a
                                  WHERE a.action = 'login_success' AND a.result = 'success'
                                    AND a.target_user_id = users.id);

-- When the account last became 通知書未発行 by パスワード初期化 (a new account is 通知書未発行 from its
-- created_at, an expired temporary password from its temp_password_expires_at, so neither is stored).
-- Existing reset accounts get updated_at: never earlier than the real start, so no account is shown
-- as waiting longer than it has.
ALTER TABLE users ADD COLUMN notice_pending_since INTEGER;
UPDATE users SET notice_pending_since = updated_at
WHERE password_hash IS NULL AND temp_password_mac IS NULL AND deleted_at IS NULL;

-- [棚卸しを完了]: who reviewed which accounts when, with the count of each group and a comment. One
-- scope per row: an institution + DB (a 責任者's review) or a municipality (a 自治体担当者's).
CREATE TABLE reviews (
    id               INTEGER PRIMARY KEY,
    institution_id   INTEGER REFERENCES institutions (id),
    db               TEXT    CHECK (db IN ('nanbyo', 'shoman')),
    municipality_id  INTEGER REFERENCES municipalities (id),
    reviewer_user_id INTEGER NOT NULL REFERENCES users (id),
    reviewer_label   TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    counts           TEXT    NOT NULL,
    comment          TEXT    NOT NULL,
    CHECK ((institution_id IS NOT NULL AND db IS NOT NULL AND municipality_id IS NULL)
        OR (institution_id IS NULL AND db IS NULL AND municipality_id IS NOT NULL))
);
CREATE INDEX reviews_institution ON reviews (institution_id, db, at);
CREATE INDEX reviews_municipality ON reviews (municipality_id, at);

-- `remind` (the monthly summary, the notice before 有効期限): one row per message sent, so a second run
-- on the same day (or in the same month) sends nothing again.
CREATE TABLE reminders (
    kind        TEXT    NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    period      TEXT    NOT NULL,
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (kind, user_id, period)
);
