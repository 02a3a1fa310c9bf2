// The rules of DESIGN §3, §6 and §9 under concurrency, with two release server processes on one database
// behind nginx (round-robin) and console processes beside them — what a hospital running two instances
// (DESIGN §12: "several instances can sit behind one proxy") would see. SQLite by default; PostgreSQL
// when NANBYO_TEST_POSTGRES is an admin URL. Run: `node --test tests/cluster/` or `.ci/cluster.sh`.
//
// Every trial fires its requests (or console processes) at the same moment and then checks the database
// (sqlite3 / psql), so a rule that holds only when operations come one after the other fails here.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  startCluster,
  stopAll,
  Client,
  csrfOf,
  prepareLogin,
  loginAndSetPassword,
  credentials,
  csv,
  passwordsFromNotice,
  freshAddress,
  DATABASE_TEXT,
  leaksDatabaseText,
  JAPANESE,
} from "./harness.mjs";

// How many trials (the brief's minimums or more).
const LOCK_TRIALS = 20; // 5 wrong passwords at once
const UNLOCK_TRIALS = 5; // 4 wrong passwords at once
const PAIR_TRIALS = 10; // two 責任者 delete each other
const DOUBLE_SUBMIT_TRIALS = 8; // three identical [アカウント削除] POSTs
const IMPORT_ROUNDS = 5; // each import scenario
const DOCTOR_ROUNDS = 10; // 自治体担当者 imports with the same 医籍登録番号

const INSTITUTION = "1311234567";
const OTHER_INSTITUTION = "1319876543"; // same municipality: the 医籍登録番号 rule is installation-wide
const FAILED = "ログインIDまたはパスワードが正しくありません";

let c; // the cluster
let admin; // the bootstrapped 責任者 of 東京中央病院 (難病DB): { id, clientA }
let officer; // the 自治体担当者 of 新宿区
const lockClerks = []; // login IDs with a temporary password issued
const unlockClerks = [];
const deleteClerks = [];
let fileCounter = 0;

const q = (s) => `'${String(s).replaceAll("'", "''")}'`;

/// Writes a CSV and imports it from the console as `as`; { code, stdout, stderr, created: [[row, login]] }.
function importArgs(content, as, extra = []) {
  fileCounter += 1;
  const file = join(c.workDir, `import-${fileCounter}.csv`);
  writeFileSync(file, content);
  return { file, args: ["import", file, "--as", as, ...extra] };
}

function created(stdout) {
  return stdout
    .split("\n")
    .map((l) => l.split("\t"))
    .filter((f) => f.length === 3 && /^\d+$/.test(f[0]))
    .map(([row, loginId, name]) => ({ row: Number(row), loginId, name }));
}

async function importNow(content, as, extra) {
  const { args } = importArgs(content, as, extra);
  const r = await c.cli(args);
  if (r.code !== 0) throw new Error(`import: exit ${r.code}\n${r.stderr.slice(-2000)}`);
  return created(r.stdout);
}

/// The last line a console command printed: its answer to the person (stdout when it succeeded).
function answer(r) {
  const text = r.code === 0 ? r.stdout : r.stderr;
  return text.trim().split("\n").filter(Boolean).at(-1) ?? "";
}

async function userId(loginId) {
  const id = await c.sqlValue(`SELECT id FROM users WHERE login_id = ${q(loginId)}`);
  assert.ok(id, `no user ${loginId}`);
  return Number(id);
}

before(async () => {
  c = await startCluster();
  await c.cliOk(["municipality", "add", "--code", "131041", "--name", "新宿区"]);
  await c.cliOk(["institution", "add", "--code", INSTITUTION, "--name", "東京中央病院", "--municipality", "131041"]);
  await c.cliOk(["institution", "add", "--code", OTHER_INSTITUTION, "--name", "新宿北病院", "--municipality", "131041"]);
  const boot = credentials(
    await c.cliOk([
      "bootstrap", "--institution", INSTITUTION, "--db", "nanbyo", "--family", "髙橋", "--given", "美咲",
      "--family-kana", "タカハシ", "--given-kana", "ミサキ", "--department", "医事課",
    ]),
  );
  const clientA = new Client(c.servers[0].base);
  await loginAndSetPassword(clientA, boot.id, boot.password);
  admin = { id: boot.id, clientA };

  const off = credentials(
    await c.cliOk([
      "bootstrap", "--municipality", "131041", "--family", "渡邊", "--given", "健一",
      "--family-kana", "ワタナベ", "--given-kana", "ケンイチ", "--department", "保健予防課",
    ]),
  );
  officer = { id: off.id };

  // The clerks of the lockout and double-submit trials, in one file; the lockout ones get a notice (a
  // temporary password), so that a wrong password counts towards the lock.
  const rows = [];
  const add = (list, label, n) => {
    for (let i = 0; i < n; i++) {
      rows.push({ list, row: { type: "医療クラーク等", department: `${label}第${i + 1}係`, family: "試験", given: "花子", familyKana: "シケン", givenKana: "ハナコ" } });
    }
  };
  add(lockClerks, "ロック試験", LOCK_TRIALS);
  add(unlockClerks, "ロック未満試験", UNLOCK_TRIALS);
  add(deleteClerks, "二重削除試験", DOUBLE_SUBMIT_TRIALS);
  const made = await importNow(csv(rows.map((r) => r.row)), admin.id);
  assert.equal(made.length, rows.length);
  for (const m of made) rows[m.row - 2].list.push(m.loginId);
  await c.cliOk(["notices", "--as", admin.id, "--out", join(c.workDir, "lock-clerks.pdf"), ...lockClerks, ...unlockClerks]);
});

after(async () => {
  await stopAll();
});

// --------------------------------------------------------------------------------------------------
// 1. Sessions live in the database: a session opened on instance A works on instance B.

test("session: logged in on instance A, the same cookie works on instance B", async (t) => {
  const onA = await admin.clientA.get("/users");
  assert.equal(onA.status, 200, "instance A shows the search page");
  const onB = admin.clientA.clone(c.servers[1].base);
  const r = await onB.get("/users");
  t.diagnostic(`GET /users on B with A's session cookie: ${r.status}${r.location ? ` → ${r.location}` : ""}`);
  assert.equal(r.status, 200, `instance B answered ${r.status} ${r.location ?? ""} (the login page?)`);
  assert.match(r.body, /<h1>医療機関ユーザ検索<\/h1>/, "instance B shows the search page");
  assert.doesNotMatch(r.body, /action="\/login"/, "not the login page");
  // The CSRF token of A's page is good on B (shared keys/): a search-screen form token round-trips.
  assert.equal(csrfOf(onA.body), csrfOf(r.body), "the session's CSRF token is the same on both instances");
});

// --------------------------------------------------------------------------------------------------
// 2. Lockout (DESIGN §6): 5 consecutive failures lock, however they arrive.

/// n wrong-password logins for one account at the same moment through nginx, each from its own address.
async function wrongLoginsAtOnce(loginId, n) {
  const clients = Array.from({ length: n }, () => new Client(c.proxy.base));
  const forms = await Promise.all(clients.map(prepareLogin));
  const replies = await Promise.all(
    clients.map((cl, i) => cl.post("/login", { ...forms[i], login_id: loginId, password: `Wrong#${i}-pass9word` })),
  );
  return { replies, addrs: clients.map((cl) => cl.localAddress) };
}

async function lockState(loginId) {
  const [row] = await c.sql(
    `SELECT CASE WHEN locked_at IS NULL THEN 0 ELSE 1 END, failed_logins FROM users WHERE login_id = ${q(loginId)}`,
  );
  return { locked: row[0] === "1", failures: Number(row[1]) };
}

function upstreamSpread(addrs) {
  const set = new Set(addrs);
  const counts = {};
  for (const e of c.accessLog()) {
    if (e.method === "POST" && e.uri === "/login" && set.has(e.addr)) counts[e.upstream] = (counts[e.upstream] ?? 0) + 1;
  }
  return counts;
}

test(`lockout: 5 wrong passwords at once lock the account (${LOCK_TRIALS} trials)`, { timeout: 180_000 }, async (t) => {
  const results = [];
  const allAddrs = [];
  for (const loginId of lockClerks) {
    const { replies, addrs } = await wrongLoginsAtOnce(loginId, 5);
    allAddrs.push(...addrs);
    for (const r of replies) assert.equal(r.status, 200, `a failed login is answered with the login page (got ${r.status})`);
    for (const r of replies) assert.ok(r.body.includes(FAILED), "the one failure message");
    results.push({ loginId, ...(await lockState(loginId)) });
  }
  const locked = results.filter((r) => r.locked).length;
  const histogram = {};
  for (const r of results) histogram[r.failures] = (histogram[r.failures] ?? 0) + 1;
  t.diagnostic(`locked in ${locked}/${results.length} trials; failed_logins afterwards → trials: ${JSON.stringify(histogram)}`);
  t.diagnostic(`requests per instance: ${JSON.stringify(upstreamSpread(allAddrs))}`);
  assert.equal(locked, results.length, `5 failures at once locked the account in only ${locked}/${results.length} trials (failed_logins seen: ${JSON.stringify(histogram)})`);
});

test(`lockout: 4 wrong passwords at once leave the account unlocked (${UNLOCK_TRIALS} trials)`, { timeout: 120_000 }, async (t) => {
  const results = [];
  for (const loginId of unlockClerks) {
    const { replies } = await wrongLoginsAtOnce(loginId, 4);
    for (const r of replies) assert.equal(r.status, 200);
    results.push({ loginId, ...(await lockState(loginId)) });
  }
  const unlocked = results.filter((r) => !r.locked).length;
  t.diagnostic(`unlocked in ${unlocked}/${results.length} trials; failed_logins: ${results.map((r) => r.failures).join(", ")}`);
  assert.equal(unlocked, results.length, `4 failures locked the account in ${results.length - unlocked}/${results.length} trials`);
});

// --------------------------------------------------------------------------------------------------
// 3. Throttle (DESIGN §6): 20 failures per client address per 10 minutes — for the installation, not
// per instance.

test("throttle: 30 failed logins at once from one address, at most 20 reach the password check", { timeout: 120_000 }, async (t) => {
  const addr = freshAddress();
  const clients = Array.from({ length: 30 }, () => new Client(c.proxy.base, { localAddress: addr }));
  const forms = await Promise.all(clients.map(prepareLogin));
  const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const unknownId = (i) => "Z" + Array.from({ length: 7 }, (_, k) => alphabet[(i * 7 + k * 13 + 5) % alphabet.length]).join("");
  const replies = await Promise.all(
    clients.map((cl, i) => cl.post("/login", { ...forms[i], login_id: unknownId(i), password: `Wrong#${i}-pass9word` })),
  );
  const failed = replies.filter((r) => r.status === 200 && r.body.includes(FAILED)).length;
  const throttled = replies.filter((r) => r.status === 429).length;
  const other = replies.length - failed - throttled;
  const audited = Number(
    await c.sqlValue(
      `SELECT count(*) FROM audit_log WHERE client_addr = ${q(addr)} AND action = 'login_failure' AND result = 'failure'`,
    ),
  );
  const auditedThrottled = Number(
    await c.sqlValue(`SELECT count(*) FROM audit_log WHERE client_addr = ${q(addr)} AND action = 'login_failure' AND result = 'denied'`),
  );
  t.diagnostic(
    `answers: ${failed} password checks (200), ${throttled} throttled (429), ${other} other; audit rows: ${audited} failures, ${auditedThrottled} throttled; per instance: ${JSON.stringify(upstreamSpread([addr]))}`,
  );
  assert.equal(other, 0, "every request is answered as a failure or as throttled");
  assert.ok(failed <= 20, `${failed} of 30 logins reached the password check (limit 20)`);
  assert.ok(audited <= 20, `${audited} failures were counted in the audit log (limit 20)`);
});

// --------------------------------------------------------------------------------------------------
// 4. The last active 責任者 (DESIGN §3): two 責任者 deleting each other at the same moment.

test(`last 責任者: two 責任者 delete each other at once, one remains (${PAIR_TRIALS} trials)`, { timeout: 240_000 }, async (t) => {
  const outcomes = [];
  for (let k = 0; k < PAIR_TRIALS; k++) {
    const code = `131500${String(k).padStart(4, "0")}`;
    await c.cliOk(["institution", "add", "--code", code, "--name", `相互削除試験病院${k + 1}`, "--municipality", "131041"]);
    const a = credentials(
      await c.cliOk([
        "bootstrap", "--institution", code, "--db", "nanbyo", "--family", "佐藤", "--given", "一郎",
        "--family-kana", "サトウ", "--given-kana", "イチロウ", "--department", "医事課",
      ]),
    );
    const [b] = await importNow(
      csv([{ type: "責任者", department: `医事課第${k + 1}係`, family: "鈴木", given: "次郎", familyKana: "スズキ", givenKana: "ジロウ" }]),
      a.id,
    );
    const pdf = join(c.workDir, `pair-${k}.pdf`);
    await c.cliOk(["notices", "--as", a.id, "--out", pdf, b.loginId]);
    const bPassword = (await passwordsFromNotice(pdf)).get(b.loginId);
    assert.ok(bPassword, "the notice shows the temporary password");

    const clientA = new Client(c.servers[0].base);
    const clientB = new Client(c.servers[1].base);
    await loginAndSetPassword(clientA, a.id, a.password);
    await loginAndSetPassword(clientB, b.loginId, bPassword);
    const aId = await userId(a.id);
    const bId = await userId(b.loginId);
    const pageA = await clientA.get(`/users/${bId}/delete`);
    const pageB = await clientB.get(`/users/${aId}/delete`);
    assert.equal(pageA.status, 200, "A sees the confirmation for B");
    assert.equal(pageB.status, 200, "B sees the confirmation for A");
    const [ra, rb] = await Promise.all([
      clientA.post(`/users/${bId}/delete`, { csrf: csrfOf(pageA.body) }),
      clientB.post(`/users/${aId}/delete`, { csrf: csrfOf(pageB.body) }),
    ]);
    const remaining = Number(
      await c.sqlValue(
        `SELECT count(*) FROM users u JOIN institutions i ON i.id = u.institution_id WHERE i.code = ${q(code)} AND u.db = 'nanbyo' AND u.user_type = 'responsible' AND u.deleted_at IS NULL`,
      ),
    );
    outcomes.push({ remaining, answers: `${ra.status}/${rb.status}` });
  }
  const ok = outcomes.filter((o) => o.remaining === 1).length;
  t.diagnostic(`one 責任者 left in ${ok}/${outcomes.length} trials; remaining per trial: ${outcomes.map((o) => o.remaining).join(", ")}; answers: ${outcomes.map((o) => o.answers).join(", ")}`);
  assert.equal(ok, outcomes.length, `remaining active 責任者 per trial: ${outcomes.map((o) => o.remaining).join(", ")}`);
});

// --------------------------------------------------------------------------------------------------
// 5. Double submit: the same [アカウント削除] three times at once is one deletion.

test(`double submit: three identical [アカウント削除] POSTs give one audit entry (${DOUBLE_SUBMIT_TRIALS} trials)`, { timeout: 120_000 }, async (t) => {
  const viaA = admin.clientA;
  const viaB = admin.clientA.clone(c.servers[1].base);
  const viaProxy = admin.clientA.clone(c.proxy.base);
  const counts = [];
  for (const loginId of deleteClerks) {
    const id = await userId(loginId);
    const page = await viaA.get(`/users/${id}/delete`);
    assert.equal(page.status, 200);
    const form = { csrf: csrfOf(page.body) };
    const replies = await Promise.all([viaA, viaB, viaProxy].map((cl) => cl.post(`/users/${id}/delete`, form)));
    const entries = Number(await c.sqlValue(`SELECT count(*) FROM audit_log WHERE action = 'delete' AND target_user_id = ${id}`));
    const deleted = await c.sqlValue(`SELECT CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END FROM users WHERE id = ${id}`);
    assert.equal(deleted, "1", "the clerk is deleted");
    counts.push({ entries, answers: replies.map((r) => r.status).join("/") });
  }
  const ok = counts.filter((x) => x.entries === 1).length;
  t.diagnostic(`exactly one delete entry in ${ok}/${counts.length} trials; entries per trial: ${counts.map((x) => x.entries).join(", ")}; answers: ${counts.map((x) => x.answers).join(", ")}`);
  assert.equal(ok, counts.length, `delete audit entries per trial: ${counts.map((x) => x.entries).join(", ")}`);
});

// --------------------------------------------------------------------------------------------------
// 6. CSV一括登録 at the same moment (DESIGN §9: re-checked inside the transaction, never twice).

function people(tag, n, prefix = "") {
  return Array.from({ length: n }, (_, i) => ({
    type: "医療クラーク等",
    department: `${tag}${prefix}第${i + 1}係`,
    family: "山田",
    given: "太郎",
    familyKana: "ヤマダ",
    givenKana: "タロウ",
  }));
}

/// Active accounts per 部署 (one person per 部署 in these files).
async function countsByDepartment(tag) {
  const rows = await c.sql(
    `SELECT department, count(*) FROM users WHERE department LIKE ${q(`${tag}%`)} AND deleted_at IS NULL GROUP BY department`,
  );
  return new Map(rows.map(([d, n]) => [d, Number(n)]));
}

/// Console imports started at the same moment; each result also names its file.
async function importsAtOnce(files, as, extra) {
  const prepared = files.map((f) => importArgs(f, as, extra));
  const results = await Promise.all(prepared.map((p) => c.cli(p.args)));
  return results.map((r, i) => ({ ...r, file: prepared[i].file }));
}

/// Runs `round` n times and asserts after the last one, so that every round is tried and reported.
/// `round(r, expect)` returns its diagnostic line; `expect(condition, message)` notes a broken rule.
async function inRounds(t, n, round) {
  const broken = [];
  for (let r = 0; r < n; r++) {
    const problems = [];
    const expect = (ok, message) => {
      if (!ok) problems.push(message);
    };
    const line = await round(r, expect);
    const shown = problems.slice(0, 3).join("; ") + (problems.length > 3 ? ` (+${problems.length - 3} more)` : "");
    t.diagnostic(`round ${r + 1}: ${line}${problems.length ? ` — BROKEN: ${shown}` : ""}`);
    if (problems.length) broken.push(`round ${r + 1}: ${shown}`);
  }
  assert.equal(broken.length, 0, `the rule broke in ${broken.length}/${n} rounds:\n${broken.join("\n")}`);
}

/// A console refusal must be a Japanese sentence, not database text.
function expectJapaneseRefusal(expect, r, what) {
  const text = answer(r).replace(/^エラー:\s*/, "");
  expect(r.code !== 0, `${what} was not refused`);
  expect(JAPANESE.test(text), `${what}: the answer is not Japanese: ${text}`);
  expect(!leaksDatabaseText(r.stderr), `${what}: database text in the answer: ${r.stderr.match(DATABASE_TEXT) ?? ""} (${answer(r)})`);
}

/// How many of `rows` (by 部署) do not have exactly `n` active accounts.
function wrongCount(counts, rows, n) {
  return rows.filter((p) => (counts.get(p.department) ?? 0) !== n).length;
}

test(`imports at once: two files sharing 800 people, one registers, the other is refused (${IMPORT_ROUNDS} rounds)`, { timeout: 180_000 }, async (t) => {
  // Without --accept-warnings: one after the other, the second file's 800 rows are warnings (an active
  // account with the same 氏名・フリガナ・部署) and the file is refused — the same must hold at once.
  await inRounds(t, IMPORT_ROUNDS, async (r, expect) => {
    const tag = `同時取込${r + 1}-`;
    const common = people(tag, 800);
    const onlyX = people(tag, 10, "X");
    const onlyY = people(tag, 10, "Y");
    const [rx, ry] = await importsAtOnce([csv([...common, ...onlyX]), csv([...common, ...onlyY])], admin.id);
    const counts = await countsByDepartment(tag);
    const twice = [...counts.values()].filter((n) => n > 1).length;
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    const succeeded = [rx, ry].filter((x) => x.code === 0).length;
    expect(succeeded === 1, `${succeeded} of the 2 imports succeeded`);
    expect(twice === 0, `${twice} people registered twice`);
    if (succeeded === 1) {
      const [won, lost, refused] = rx.code === 0 ? [onlyX, onlyY, ry] : [onlyY, onlyX, rx];
      expectJapaneseRefusal(expect, refused, "the other import");
      const missing = wrongCount(counts, [...common, ...won], 1);
      expect(missing === 0, `${missing} people of the registered file do not exist exactly once`);
      const leaked = lost.filter((p) => (counts.get(p.department) ?? 0) > 0).length;
      expect(leaked === 0, `${leaked} rows of the refused file were registered`);
    }
    return `exits ${rx.code}/${ry.code}; ${total} accounts for 820 rows, ${twice} people twice; answers: ${answer(rx)} | ${answer(ry)}`;
  });
});

test(`imports at once: two files sharing 800 people, with --accept-warnings both register, as one after the other would (${IMPORT_ROUNDS} rounds)`, { timeout: 180_000 }, async (t) => {
  // DESIGN §9: a warning (same 氏名・フリガナ・部署 as an active account: two real 山田太郎 can exist) may be
  // confirmed. One after the other, both files register; at the same moment the outcome must be the same,
  // and neither may fail with database text.
  await inRounds(t, IMPORT_ROUNDS, async (r, expect) => {
    const tag = `確認済取込${r + 1}-`;
    const common = people(tag, 800);
    const onlyX = people(tag, 10, "X");
    const onlyY = people(tag, 10, "Y");
    const [rx, ry] = await importsAtOnce([csv([...common, ...onlyX]), csv([...common, ...onlyY])], admin.id, ["--accept-warnings"]);
    const counts = await countsByDepartment(tag);
    const hist = {};
    for (const n of counts.values()) hist[n] = (hist[n] ?? 0) + 1;
    for (const x of [rx, ry]) expect(!leaksDatabaseText(x.stderr), `database text: ${x.stderr.match(DATABASE_TEXT) ?? ""} (${answer(x)})`);
    expect(rx.code === 0 && ry.code === 0, `not both confirmed imports registered`);
    const wrong = wrongCount(counts, common, 2) + wrongCount(counts, [...onlyX, ...onlyY], 1);
    expect(wrong === 0, `${wrong} people without the serial outcome (common rows twice, the others once)`);
    return `exits ${rx.code}/${ry.code}; people by number of accounts: ${JSON.stringify(hist)}; answers: ${answer(rx)} | ${answer(ry)}`;
  });
});

test(`imports at once: the same file twice, one registers, the other is refused (${IMPORT_ROUNDS} rounds)`, { timeout: 180_000 }, async (t) => {
  await inRounds(t, IMPORT_ROUNDS, async (r, expect) => {
    const tag = `同一取込${r + 1}-`;
    const rows = people(tag, 810);
    const file = csv(rows);
    const [r1, r2] = await importsAtOnce([file, file], admin.id, ["--accept-warnings"]);
    const counts = await countsByDepartment(tag);
    const twice = [...counts.values()].filter((n) => n > 1).length;
    const names = [r1, r2].map((x) => q(x.file.split("/").at(-1))).join(", ");
    const committed = Number(await c.sqlValue(`SELECT count(*) FROM imports WHERE result = 'committed' AND file_name IN (${names})`));
    const succeeded = [r1, r2].filter((x) => x.code === 0).length;
    expect(succeeded === 1, `${succeeded} of the 2 imports succeeded`);
    if (succeeded === 1) expectJapaneseRefusal(expect, r1.code === 0 ? r2 : r1, "the second import of the same file");
    expect(twice === 0, `${twice} people registered twice`);
    const missing = wrongCount(counts, rows, 1);
    expect(missing === 0, `${missing} people do not exist exactly once`);
    expect(committed === 1, `${committed} committed imports of the file in the history`);
    return `exits ${r1.code}/${r2.code}; ${twice} people twice; answers: ${answer(r1)} | ${answer(r2)}`;
  });
});

// --------------------------------------------------------------------------------------------------
// 7. 医籍登録番号 (DESIGN §3): one active account per number and DB across the installation.

test(`自治体担当者 imports at once: the same 50 医籍登録番号 in two files, never two active accounts (${DOCTOR_ROUNDS} rounds)`, { timeout: 180_000 }, async (t) => {
  await inRounds(t, DOCTOR_ROUNDS, async (r, expect) => {
    const numbers = Array.from({ length: 50 }, (_, i) => String(700000 + r * 1000 + i));
    const doctors = (institution, family, familyKana, dept) =>
      numbers.map((regNo, i) => ({
        institution,
        type: "難病指定医",
        department: `${dept}${r + 1}-${i + 1}`,
        family,
        given: "誠",
        familyKana,
        givenKana: "マコト",
        regNo,
      }));
    const fileX = csv(doctors(INSTITUTION, "中村", "ナカムラ", "内科"), { withInstitution: true });
    const fileY = csv(doctors(OTHER_INSTITUTION, "小林", "コバヤシ", "神経内科"), { withInstitution: true });
    const [rx, ry] = await importsAtOnce([fileX, fileY], officer.id);
    const held = await c.sql(
      `SELECT db, medical_reg_no, count(*) FROM users WHERE medical_reg_no IN (${numbers.map(q).join(", ")}) AND deleted_at IS NULL GROUP BY db, medical_reg_no HAVING count(*) > 1`,
    );
    expect(held.length === 0, `${held.length} 医籍登録番号 held by two active accounts (e.g. ${held.slice(0, 2).map((h) => h.join(" ")).join(", ")})`);
    const succeeded = [rx, ry].filter((x) => x.code === 0).length;
    expect(succeeded === 1, `${succeeded} of the 2 imports succeeded`);
    if (succeeded === 1) expectJapaneseRefusal(expect, rx.code === 0 ? ry : rx, "the other 自治体担当者 import");
    return `exits ${rx.code}/${ry.code}; 医籍登録番号 held twice: ${held.length}; answers: ${answer(rx)} | ${answer(ry)}`;
  });
});

// --------------------------------------------------------------------------------------------------
// 8. After everything, the audit chain (DESIGN §11) is whole: concurrent writers never forked it.

test("audit verify: the chain is intact after all of the above", async (t) => {
  const r = await c.cli(["audit", "verify"]);
  const entries = await c.sqlValue("SELECT count(*) FROM audit_log");
  t.diagnostic(`audit verify exit ${r.code}: ${(r.stdout + r.stderr).trim()} (${entries} rows)`);
  assert.equal(r.code, 0, `audit verify: ${r.stdout}${r.stderr}`);
  // And both instances are still up.
  for (const s of [...c.servers, c.proxy]) {
    const h = await new Client(s.base, { localAddress: "127.0.0.1" }).get("/health");
    assert.equal(h.status, 200, `${s.name} is healthy`);
  }
});
