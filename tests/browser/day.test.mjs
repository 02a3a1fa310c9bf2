// A newcomer's day in real Chromium: log in as the bootstrapped 責任者, change the temporary password,
// register a clerk, find them, edit their 部署, release a lock made by failed logins, reset their
// password, delete them. Screenshots of each screen go to tests/browser/screenshots/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { readFile } from "node:fs/promises";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { startServer, launchBrowser, credentials, shots } from "./harness.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function text(page) {
  return page.locator("main").innerText();
}

test("a newcomer's day as 責任者", async () => {
  const { base, cli } = server;
  cli("municipality", "add", "--code", "131041", "--name", "新宿区");
  cli("institution", "add", "--code", "1311234567", "--name", "東京中央病院", "--municipality", "131041");
  const admin = credentials(
    cli("bootstrap", "--institution", "1311234567", "--db", "nanbyo", "--family", "髙橋", "--given", "美咲",
      "--family-kana", "タカハシ", "--given-kana", "ミサキ", "--department", "医事課"),
  );

  globalThis.adminId = admin.id;
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "ja-JP", acceptDownloads: true });
  const page = await context.newPage();
  const offline = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base)) offline.push(r.url());
  });

  // ログイン with the temporary password: only the password change is open.
  await page.goto(`${base}/login`);
  assert.match(await text(page), /この画面でできること/);
  await shot(page, "01-login");
  await page.getByLabel("ログインID").fill(admin.id);
  await page.getByLabel("パスワード").fill(admin.password);
  await page.getByRole("button", { name: "ログイン" }).click();
  await page.waitForURL(`${base}/password`);
  assert.match(await text(page), /初期パスワードでログインしています/);
  await shot(page, "02-password-forced");
  await page.goto(`${base}/users`);
  assert.equal(new URL(page.url()).pathname, "/password", "a temporary session reaches only /password");

  // A weak password is refused in Japanese; then a good one.
  await page.locator("#current").fill(admin.password);
  await page.locator("#new").fill("password");
  await page.locator("#confirm").fill("password");
  await page.getByRole("button", { name: "変更する" }).click();
  assert.match(await text(page), /13文字以上で入力してください/);
  await shot(page, "03-password-refused");
  await page.locator("#current").fill(admin.password);
  await page.locator("#new").fill("Kumo-no-ue7Sora");
  await page.locator("#confirm").fill("Kumo-no-ue7Sora");
  await page.getByRole("button", { name: "変更する" }).click();
  await page.waitForURL(`${base}/`);
  assert.match(await text(page), /パスワードを変更しました。/);
  const header = await page.locator("header").innerText();
  assert.match(header, /髙橋　美咲 様/);
  assert.match(header, /東京中央病院/);
  await shot(page, "04-menu");

  // 医療機関ユーザ新規登録: a clerk, with an error first.
  await page.getByRole("link", { name: "医療機関ユーザ新規登録" }).first().click();
  assert.match(await text(page), /医療クラーク等/);
  assert.equal(await page.locator("#user_type option", { hasText: "指定医" }).count(), 0, "no doctor types for a 責任者");
  await page.locator("#user_type").selectOption("clerk");
  await page.getByLabel("部署").fill("外来");
  await page.getByLabel("姓", { exact: true }).fill("山﨑");
  await page.getByLabel("名", { exact: true }).fill("花子");
  await page.getByLabel("セイ").fill("やまざき");
  await page.getByLabel("メイ").fill("Hanako");
  await page.getByRole("button", { name: "登録" }).click();
  assert.match(await text(page), /入力内容に誤りがあります。/);
  assert.match(await text(page), /フリガナ（メイ）は全角カタカナで入力してください。/);
  assert.equal(await page.getByLabel("姓", { exact: true }).inputValue(), "山﨑", "the form keeps what was typed");
  await shot(page, "05-register-error");
  await page.getByLabel("メイ").fill("ﾊﾅｺ");
  await page.getByRole("button", { name: "登録" }).click();
  await page.waitForURL(/\/users\/\d+\/registered$/);
  const done = await text(page);
  assert.match(done, /医療クラーク等のユーザを登録しました。/);
  assert.match(done, /山﨑　花子（ヤマザキ　ハナコ）/);
  assert.match(done, /通知書未発行/);
  const clerkId = (await page.locator("td.login-id").innerText()).trim();
  assert.match(clerkId, /^[A-HJ-NP-Z2-9]{8}$/);
  await shot(page, "06-registered");

  // 医療機関ユーザ検索: 崎 finds 﨑.
  await page.goto(`${base}/users`);
  await page.getByLabel("氏名またはフリガナ").fill("山崎");
  await page.getByRole("button", { name: "検索" }).click();
  let results = await text(page);
  assert.match(results, /検索結果 1件中 1〜1件/);
  assert.match(results, new RegExp(clerkId));
  const row = page.locator("tr", { hasText: clerkId });
  assert.equal(await row.getByText("通知書未発行").count(), 1);
  assert.equal(await row.getByRole("link", { name: "パスワード初期化" }).count(), 0, "no reset before a notice");
  await shot(page, "07-search");

  // [変更]: the clerk moves to 地域医療連携室.
  await row.getByRole("link", { name: "変更" }).click();
  assert.match(await text(page), /ユーザ情報変更/);
  await page.getByLabel("部署").fill("地域医療連携室");
  await shot(page, "08-edit");
  await page.getByRole("button", { name: "変更する" }).click();
  assert.match(await text(page), /ユーザ情報を変更しました。/);
  assert.match(await text(page), /地域医療連携室/);

  // The clerk gets a password (console break-glass stands in for the notice), then someone guesses
  // wrong five times in another browser: the account is locked.
  const clerk = credentials(cli("user", "reset", clerkId, "--verified-by", "対面で職員証を確認"));
  const other = await browser.newContext();
  const guess = await other.newPage();
  for (let i = 0; i < 5; i++) {
    await guess.goto(`${base}/login`);
    await guess.getByLabel("ログインID").fill(clerkId);
    await guess.getByLabel("パスワード").fill(`wrong-${i}`);
    await guess.getByRole("button", { name: "ログイン" }).click();
    assert.match(await guess.locator("main").innerText(), /ログインIDまたはパスワードが正しくありません。5回続けて誤るとロックされます。/);
  }
  await guess.goto(`${base}/login`);
  await guess.getByLabel("ログインID").fill(clerkId);
  await guess.getByLabel("パスワード").fill(clerk.password);
  await guess.getByRole("button", { name: "ログイン" }).click();
  assert.match(await guess.locator("main").innerText(), /ログインIDまたはパスワードが正しくありません。/, "locked: same message");
  await shot(guess, "09-login-refused");
  await other.close();

  // [アカウントロック解除]
  await page.goto(`${base}/users?login_id=${clerkId}`);
  results = await text(page);
  assert.match(results, /ロック中/);
  await shot(page, "10-locked");
  await page.getByRole("button", { name: "アカウントロック解除" }).click();
  assert.match(await text(page), /アカウントロックを解除しました。/);
  assert.match(await text(page), /初期パスワード未変更/);

  // [パスワード初期化] asks how the person was identified.
  await page.locator("tr", { hasText: clerkId }).getByRole("link", { name: "パスワード初期化" }).click();
  assert.match(await text(page), /山﨑　花子/);
  await page.getByLabel("対面で職員証・身分証明書を確認").check();
  await shot(page, "11-reset");
  await page.getByRole("button", { name: "初期化する" }).click();
  assert.match(await text(page), /パスワードを初期化しました。/);
  assert.match(await text(page), /通知書未発行/);
  // The reset leads straight to the new notice: a POST that answers with the PDF.
  assert.match(await text(page), /以前に発行した通知書は使えなくなります/);
  await shot(page, "12-issue-notice");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: "IDパスワード通知書ダウンロード" }).click(),
  ]);
  assert.match(download.suggestedFilename(), new RegExp(`^IDPW-notice-${clerkId}-.*\\.pdf$`));
  const pdf = await readFile(await download.path());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  // The page fetched the PDF and shows itself again with the result and the new state.
  await page.getByText("様のIDパスワード通知書を発行しました。").waitFor();
  assert.doesNotMatch(await text(page), /通知書未発行/);
  await page.goto(`${base}/users?login_id=${clerkId}`);
  assert.match(await text(page), /初期パスワード未変更/);

  // [アカウント削除] confirms, naming the person.
  await page.locator("tr", { hasText: clerkId }).getByRole("link", { name: "アカウント削除" }).click();
  const confirm = await text(page);
  assert.match(confirm, /次のユーザのアカウントを削除します。/);
  assert.match(confirm, /山﨑　花子/);
  await shot(page, "13-delete-confirm");
  await page.getByRole("button", { name: "削除する" }).click();
  assert.match(await text(page), /山﨑　花子様のアカウントを削除しました。/);
  await page.goto(`${base}/users?login_id=${clerkId}&state=deleted`);
  const deleted = page.locator("tr", { hasText: clerkId });
  assert.equal(await deleted.getByText("削除済").count(), 1);
  assert.equal(await deleted.getByRole("link").count(), 0, "no operations on a deleted account");
  await shot(page, "14-deleted");

  // 操作履歴 shows who did what.
  await page.goto(`${base}/audit`);
  const log = await text(page);
  for (const action of ["ユーザ登録", "ユーザ情報変更", "アカウントロック", "アカウントロック解除", "パスワード初期化", "通知書発行", "アカウント削除"]) {
    assert.ok(log.includes(action), `操作履歴 shows ${action}`);
  }
  await shot(page, "15-audit");

  // Log out ends the session.
  await page.getByRole("button", { name: "ログアウト" }).click();
  assert.match(await text(page), /ログアウトしました。/);
  await page.goto(`${base}/users`);
  assert.equal(new URL(page.url()).pathname, "/login");

  assert.deepEqual(offline, [], "no page loads anything from outside this server");
  await context.close();
});

test("CSV一括登録 of an Excel file, then the batch's notices", async () => {
  const { base } = server;
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "ja-JP", acceptDownloads: true });
  const page = await context.newPage();
  // The 責任者 of the first test logs in with the password it chose.
  await page.goto(`${base}/login`);
  await page.getByLabel("ログインID").fill(globalThis.adminId);
  await page.getByLabel("パスワード").fill("Kumo-no-ue7Sora");
  await page.getByRole("button", { name: "ログイン" }).click();
  await page.waitForURL(`${base}/`);
  await page.getByRole("link", { name: "CSV一括登録" }).first().click();
  assert.match(await text(page), /ひな形/);
  // What Excel saves as 「CSV UTF-8（コンマ区切り）」: BOM, CRLF.
  const csv =
    "\ufeffユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\r\n" +
    "医療クラーク等,外来,齋藤,一郎,ｻｲﾄｳ,ｲﾁﾛｳ,,03-1234-5678,2027/3/31,\r\n" +
    "医療クラーク等,病棟,渡邊,德子,わたなべ,とくこ,,,令和9年3月31日,\r\n";
  await page.locator("#file").setInputFiles({ name: "4月採用.csv", mimeType: "text/csv", buffer: Buffer.from(csv, "utf8") });
  await page.getByRole("button", { name: "内容を確認する" }).click();
  const preview = await text(page);
  assert.match(preview, /登録するユーザ（2件）/);
  assert.match(preview, /齋藤　一郎/);
  assert.match(preview, /ワタナベ　トクコ/);
  await shot(page, "16-import-preview");
  await page.getByRole("button", { name: "登録" }).click();
  assert.match(await text(page), /2件のユーザを登録しました/);
  await shot(page, "17-import-done");
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("button", { name: /通知書一括発行/ }).click(),
  ]);
  const pdf = await readFile(await download.path());
  assert.equal(pdf.subarray(0, 5).toString(), "%PDF-");
  // Then the import history, with the result.
  await page.getByText("件のIDパスワード通知書を発行しました（1つのPDF）。").waitFor();
  assert.equal(new URL(page.url()).pathname, "/imports");
  await context.close();
});

test("人事異動 by Excel round trip: export, edit, preview before → after, apply", async () => {
  const { base, cli } = server;
  // A leaver registered from the console, next to the two clerks of the CSV import.
  const dir = mkdtempSync(join(tmpdir(), "nanbyo-change-"));
  const leaver = join(dir, "leaver.csv");
  writeFileSync(
    leaver,
    "\ufeffユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）\r\n医療クラーク等,外来,退職,予定,タイショク,ヨテイ\r\n",
  );
  cli("import", leaver, "--as", globalThis.adminId);
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: "ja-JP", acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await page.getByLabel("ログインID").fill(globalThis.adminId);
  await page.getByLabel("パスワード").fill("Kumo-no-ue7Sora");
  await page.getByRole("button", { name: "ログイン" }).click();
  await page.waitForURL(`${base}/`);
  await page.goto(`${base}/users`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("link", { name: "CSV出力" }).click()]);
  const exported = (await readFile(await download.path())).toString("utf8");
  assert.ok(exported.startsWith("\ufeffログインID,"), "the export starts with its BOM and ログインID");
  assert.ok(!exported.includes('"'), "no quoted cells in this export");
  const lines = exported.replace(/^\ufeff/, "").split("\r\n").filter((l) => l !== "");
  const header = lines[0].split(",");
  const col = (name) => header.indexOf(name);
  assert.ok(col("更新番号") > 0 && col("削除") > 0 && col("最終ログイン") > 0);
  const edited = lines.map((line, i) => {
    if (i === 0) return line;
    const cells = line.split(",");
    if (cells[col("氏名（姓）")] === "齋藤") cells[col("部署")] = "第10病棟";
    if (cells[col("氏名（姓）")] === "渡邊") cells[col("部署")] = "第2病棟";
    if (cells[col("氏名（姓）")] === "退職") cells[col("削除")] = "削除";
    return cells.join(",");
  });
  // Saved back by Excel as 「CSV UTF-8（コンマ区切り）」.
  const file = "\ufeff" + edited.join("\r\n") + "\r\n";
  await page.goto(`${base}/imports`);
  await page.locator("#file").setInputFiles({ name: "4月異動.csv", mimeType: "text/csv", buffer: Buffer.from(file, "utf8") });
  await page.getByRole("button", { name: "内容を確認する" }).click();
  const preview = await text(page);
  assert.match(preview, /変更するユーザ（変更 2件・削除 1件）/);
  assert.match(preview, /部署：外来 → 第10病棟/);
  assert.match(preview, /部署：病棟 → 第2病棟/);
  assert.match(preview, /退職　予定/);
  assert.equal(await page.locator("table.problems").count(), 0, "no problems listed");
  await shot(page, "18-change-preview");
  await page.getByRole("button", { name: "変更を反映" }).click();
  const doneText = await text(page);
  assert.match(doneText, /変更ファイルを反映しました（取込番号 \d+）：変更 2件・削除 1件/);
  const importId = doneText.match(/取込番号 (\d+)/)[1];
  await shot(page, "19-change-done");
  // The history opens the import's detail page, with the accounts as they are now.
  await page.getByRole("link", { name: "CSV一括登録・変更へ" }).click();
  await page.getByRole("link", { name: importId, exact: true }).click();
  const detail = await text(page);
  assert.match(detail, new RegExp(`取込番号 ${importId}（一括変更）`));
  assert.match(detail, /変更したユーザ（3件）/);
  assert.match(detail, /画面からのアップロード/);
  assert.match(detail, /削除済/);
  await shot(page, "20-import-detail");
  await page.goto(`${base}/users?department=${encodeURIComponent("第10病棟")}`);
  const found = await text(page);
  assert.match(found, /齋藤/);
  assert.match(found, /第10病棟/);
  await page.goto(`${base}/users?name=${encodeURIComponent("退職")}`);
  assert.doesNotMatch(await text(page), /退職　予定/, "the deleted account is gone from the default search");
  await context.close();
});
