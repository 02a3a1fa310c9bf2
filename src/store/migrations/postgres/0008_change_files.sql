-- 人事異動 change files (issue 12): the profile version a change file is checked against, and whether an
-- import registered accounts or changed them. PostgreSQL; the SQLite twin in ../sqlite/ differs only in types.

-- 更新番号: bumped by [変更] and by change files (never by notices, resets or logins), exported with the
-- search CSV; a change file's row carrying an older number is refused with who changed the account
-- and when (profile_changed_by: the acting account; NULL with a time = the console).
ALTER TABLE users ADD COLUMN profile_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE users ADD COLUMN profile_changed_at BIGINT;
ALTER TABLE users ADD COLUMN profile_changed_by BIGINT REFERENCES users (id);

-- 'register' (CSV一括登録) or 'change' (人事異動の変更ファイル), for the history.
ALTER TABLE imports ADD COLUMN kind TEXT NOT NULL DEFAULT 'register' CHECK (kind IN ('register', 'change'));

-- The accounts an import registered or changed, with their Excel row: the import's detail page lists
-- them with their current state (and issues the notices still pending, days later).
CREATE TABLE import_accounts (
    import_id BIGINT NOT NULL REFERENCES imports (id),
    user_id   BIGINT NOT NULL REFERENCES users (id),
    excel_row BIGINT NOT NULL,
    PRIMARY KEY (import_id, user_id)
);
CREATE INDEX import_accounts_user ON import_accounts (user_id);

-- Why an attempt registered nobody (its first problems, as the preview listed them).
ALTER TABLE imports ADD COLUMN reason TEXT;
