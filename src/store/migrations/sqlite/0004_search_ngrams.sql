-- Partial 氏名・フリガナ・部署 search without scanning the view (SQLite; the PostgreSQL twin is in
-- ../postgres/). One row per (field, gram, account): every character and every pair of adjacent
-- characters of the folded search keys (src/domain/ngram.rs), 'n' for 氏名 or フリガナ (one condition
-- searches both), 'd' for 部署. The store keeps it in the transaction that writes the keys
-- (src/store/ngrams.rs); a tombstone keeps its grams, because 削除済 accounts are searchable too.
--
-- The key starts with the gram and the view (institution + DB), then the default sort (フリガナ, id),
-- so one index range lists a view's matches of a gram already in screen order, and a page stops
-- after its 50 rows. It is the whole table (WITHOUT ROWID): no second copy of the rows. Only
-- institution accounts have grams: a 自治体担当者 is in no search view but its own.
-- No foreign key: the rows are derived from users (never deleted), and a check per gram row would
-- slow the bulk import for no rule it could keep.
CREATE TABLE user_ngrams (
    field          TEXT    NOT NULL,
    gram           TEXT    NOT NULL,
    institution_id INTEGER NOT NULL,
    db             TEXT    NOT NULL,
    kana_fold      TEXT    NOT NULL,
    user_id        INTEGER NOT NULL,
    PRIMARY KEY (field, gram, institution_id, db, kana_fold, user_id)
) WITHOUT ROWID;

-- Back-fill the existing accounts with the same grams the store writes: substr counts characters.
INSERT OR IGNORE INTO user_ngrams (field, gram, institution_id, db, kana_fold, user_id)
WITH RECURSIVE
    pos (n) AS (
        SELECT 1
        UNION ALL
        SELECT n + 1 FROM pos
        WHERE n < (SELECT MAX(MAX(length(name_fold), length(kana_fold), length(department_fold))) FROM users)
    ),
    width (k) AS (VALUES (1), (2)),
    source (field, s, institution_id, db, kana_fold, user_id) AS (
        SELECT 'n', name_fold, institution_id, db, kana_fold, id FROM users WHERE institution_id IS NOT NULL
        UNION ALL
        SELECT 'n', kana_fold, institution_id, db, kana_fold, id FROM users WHERE institution_id IS NOT NULL
        UNION ALL
        SELECT 'd', department_fold, institution_id, db, kana_fold, id FROM users WHERE institution_id IS NOT NULL
    )
SELECT s.field, substr(s.s, pos.n, width.k), s.institution_id, s.db, s.kana_fold, s.user_id
FROM source s JOIN pos ON pos.n <= length(s.s) JOIN width ON pos.n + width.k - 1 <= length(s.s);

-- The unconditioned list in the default order (フリガナ, id): the old users_view_kana carried the
-- folded keys between kana_fold and id for LIKE over the index, so it could not serve ORDER BY
-- kana_fold, id (PostgreSQL sorted the whole view); the grams now narrow partial conditions.
DROP INDEX users_view_kana;
CREATE INDEX users_view_kana ON users (institution_id, db, deleted_at, kana_fold, id);
