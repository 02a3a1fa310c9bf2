-- Rules several processes must agree on, kept by the database (SQLite; the PostgreSQL twin is in
-- ../postgres/ and differs only in types and in how "now" and "today in JST" are written).

-- One active 医籍登録番号 per DB (DESIGN §3). An index predicate cannot hold today's date, so the rule
-- is over non-deleted accounts: registering a number held by an expired account tombstones that
-- account in the same transaction. Older expired holders of a number held twice are tombstoned first
-- (what registration now does); two unexpired holders make this migration fail, by design.
UPDATE users SET deleted_at = CAST(strftime('%s', 'now') AS INTEGER)
WHERE deleted_at IS NULL AND medical_reg_no IS NOT NULL
  AND expires_on IS NOT NULL AND expires_on < date('now', '+9 hours')
  AND EXISTS (SELECT 1 FROM users newer
              WHERE newer.db = users.db AND newer.medical_reg_no = users.medical_reg_no
                AND newer.deleted_at IS NULL AND newer.id > users.id);
DROP INDEX users_medical_reg_no;
CREATE UNIQUE INDEX users_active_medical_reg_no ON users (db, medical_reg_no)
    WHERE medical_reg_no IS NOT NULL AND deleted_at IS NULL;

-- Failed logins per client address (DESIGN §6), shared by every instance. An attempt is counted
-- before its password is checked, so parallel guesses cannot all slip under the limit.
CREATE TABLE login_throttle (
    client_addr   TEXT    PRIMARY KEY,
    failures      INTEGER NOT NULL,
    window_start  INTEGER NOT NULL,
    blocked_until INTEGER
);

-- A fingerprint of each key (an HMAC of a fixed text, never the key): every instance and the console
-- must use the same keys, or the audit chain, CSRF tokens and printed notices break across them.
CREATE TABLE key_fingerprints (
    name        TEXT    PRIMARY KEY,
    fingerprint TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
