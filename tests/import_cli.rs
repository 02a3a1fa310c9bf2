//! CSV一括登録 from the console (`import FILE --as LOGIN_ID`): an Excel file in Shift_JIS registers every
//! row or none, the same file twice never registers anyone twice, warnings need confirmation.

use std::process::Command;

#[path = "common/console.rs"]
mod console;

use console::{database, login_id, Console};

impl Console {
    /// The 責任者 the files are imported as.
    fn responsible(&self) -> String {
        self.add_hospital();
        let (ok, out, err) = self.bootstrap(["責任", "者", "セキニン", "シャ"], &[]);
        assert!(ok, "{err}");
        login_id(&out)
    }

    fn users(&self) -> usize {
        let (ok, out, _) = self.run(&["audit", "verify"]);
        assert!(ok, "the audit chain verifies after every import");
        let _ = out;
        self.count_users()
    }

    fn count_users(&self) -> usize {
        self.query_one("SELECT COUNT(*) FROM users")
            .parse()
            .unwrap()
    }

    /// The database is intact after a crash. SQLite: `PRAGMA integrity_check`. PostgreSQL has no such
    /// check (a killed client cannot damage the server's files); there the killed client's sessions
    /// must have ended (its transaction rolled back or committed, nothing pending) and the audit chain,
    /// which every import appends to, must verify.
    fn assert_intact(&self, label: &str) {
        if database::on_postgres() {
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let others = self.query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                );
                if others == "0" {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{label}: {others} sessions of a killed client still open"
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            let (ok, out, err) = self.run(&["audit", "verify"]);
            assert!(ok, "{label}: the audit chain verifies: {out}{err}");
        } else {
            assert_eq!(self.query_one("PRAGMA integrity_check"), "ok", "{label}");
        }
    }
}

/// What Japanese Excel saves as 「CSV（コンマ区切り）」: Shift_JIS with CRLF.
fn excel_sjis(text: &str) -> Vec<u8> {
    let crlf = text.replace('\n', "\r\n");
    let (bytes, _, errors) = encoding_rs::SHIFT_JIS.encode(&crlf);
    assert!(!errors);
    bytes.into_owned()
}

const HEADER: &str = "ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\n";

#[test]
fn an_excel_file_registers_every_row_once() {
    let c = Console::new();
    let me = c.responsible();
    let before = c.users();
    let file = c.write(
        "clerks.csv",
        &excel_sjis(&format!(
            "{HEADER}医療クラーク等,外来,髙橋,美咲,ﾀｶﾊｼ,ﾐｻｷ,,03-1234-5678,2027/3/31,\n医療クラーク等,病棟,山﨑,花子,やまざき,はなこ,,,令和9年3月31日,\"2行目の\n備考\"\n"
        )),
    );
    // A dry run registers nothing.
    let (ok, out, err) = c.run(&["import", &file, "--as", &me, "--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.contains("2件を登録できます（Shift_JIS）"), "{out}");
    assert_eq!(c.users(), before);
    let (ok, out, err) = c.run(&["import", &file, "--as", &me]);
    assert!(ok, "{err}");
    assert!(out.contains("2件を登録しました"), "{out}");
    assert!(
        out.contains("髙橋　美咲") && out.contains("山﨑　花子"),
        "names survive CP932: {out}"
    );
    assert_eq!(c.users(), before + 2);
    // The same file again: refused, pointing at the earlier import; nobody registered twice.
    let (ok, _, err) = c.run(&["import", &file, "--as", &me]);
    assert!(!ok);
    assert!(err.contains("取り込み済みです（取込番号 1"), "{err}");
    assert_eq!(c.users(), before + 2);
    // A re-saved copy (other bytes, same people) is caught by the warnings: refused without confirmation…
    let copy = c.write(
        "copy.csv",
        &excel_sjis(&format!("{HEADER}医療クラーク等,外来,髙橋,美咲,タカハシ,ミサキ,,03-1234-5678,2027/3/31,再保存\n")),
    );
    let (ok, _, err) = c.run(&["import", &copy, "--as", &me]);
    assert!(!ok);
    assert!(
        err.contains("警告\t2行\t氏名（姓）\t氏名・フリガナ・部署が同じ有効なアカウント"),
        "{err}"
    );
    assert!(err.contains("--accept-warnings"));
    assert_eq!(c.users(), before + 2);
    // …and registered with it (two real 髙橋美咲 can exist).
    let (ok, _, err) = c.run(&["import", &copy, "--as", &me, "--accept-warnings"]);
    assert!(ok, "{err}");
    assert_eq!(c.users(), before + 3);
}

#[test]
fn one_bad_row_blocks_the_whole_file() {
    let c = Console::new();
    let me = c.responsible();
    let before = c.users();
    let file = c.write(
        "bad.csv",
        format!(
            "\u{feff}{HEADER}医療クラーク等,外来,佐藤,一郎,サトウ,イチロウ,,,,\n難病指定医,内科,鈴木,次郎,スズキ,ジロウ,,,,\n医療クラーク等,外来,=cmd(),三郎,タナカ,サブロウ,,312345678,,\n"
        )
        .as_bytes(),
    );
    let (ok, _, err) = c.run(&["import", &file, "--as", &me]);
    assert!(!ok);
    assert!(
        err.contains("エラー\t3行\tユーザ種別\t"),
        "the 責任者 may not register a 指定医: {err}"
    );
    assert!(err.contains("4行\t氏名（姓）"), "{err}");
    assert!(err.contains("先頭の0がありません"), "{err}");
    assert!(err.contains("1件も登録していません"));
    assert_eq!(c.users(), before, "all or nothing");
}

/// A crash at a chosen step (test-only failpoints), and SIGKILLs at random moments: the database stays
/// intact, holds all of the batch or none of it, and importing again completes it exactly once.
#[test]
fn a_crash_at_any_step_leaves_all_or_nothing() {
    let c = Console::new();
    let me = c.responsible();
    let rows = 3000;
    let mut text = format!("\u{feff}{HEADER}");
    for i in 0..rows {
        text.push_str(&format!(
            "医療クラーク等,病棟{},職員,{i}号,ショクイン,ゴウ,,,,\n",
            i % 30
        ));
    }
    let file = c.write("big.csv", text.as_bytes());
    let before = c.count_users();
    let check = |label: &str| {
        c.assert_intact(label);
        let n = c.count_users();
        assert!(
            n == before || n == before + rows,
            "{label}: {n} users: all of the batch or none"
        );
        n
    };
    for step in ["after-validation", "midway", "before-commit"] {
        let (ok, _, err) = c.run_env(
            &["import", &file, "--as", &me],
            &[("NANBYO_TEST_FAILPOINT", &format!("import:{step}"))],
        );
        assert!(!ok, "{step}: the process was aborted");
        assert!(err.contains(&format!("failpoint import:{step}")), "{err}");
        assert_eq!(check(step), before, "{step}: nothing registered");
    }
    // SIGKILL at several moments of a real import.
    for delay_ms in [30u64, 120, 400, 900] {
        let mut child = c
            .command(&["import", &file, "--as", &me])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        check(&format!("SIGKILL after {delay_ms} ms"));
    }
    // Importing again completes the batch exactly once (or is refused as done, if a run got through).
    let (ok, _, err) = c.run(&["import", &file, "--as", &me]);
    assert!(ok || err.contains("取り込み済みです"), "{err}");
    assert_eq!(check("final"), before + rows);
    let (ok, _, err) = c.run(&["import", &file, "--as", &me]);
    assert!(
        !ok && err.contains("取り込み済みです"),
        "never twice: {err}"
    );
    assert_eq!(c.count_users(), before + rows);
    assert!(c.run(&["audit", "verify"]).0);
}

/// The inbox script the systemd path unit runs: each dropped file is imported and moved to done/ or
/// failed/ with a result file beside it.
#[test]
fn the_inbox_imports_each_dropped_file_and_files_the_result() {
    let c = Console::new();
    let me = c.responsible();
    // The script's layout: inbox/, done/ and failed/ side by side in NANBYO_IMPORT_DIR.
    let base = c.dir.path().join("import");
    let inbox = base.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    std::fs::write(
        inbox.join("good.csv"),
        excel_sjis(&format!(
            "{HEADER}医療クラーク等,外来,髙橋,美咲,タカハシ,ミサキ,,,,\n"
        )),
    )
    .unwrap();
    std::fs::write(
        inbox.join("bad.csv"),
        excel_sjis(&format!(
            "{HEADER}医療クラーク等,,山田,花子,Yamada,ハナコ,,,,\n"
        )),
    )
    .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/nanbyo-import-inbox");
    let mut cmd = Command::new("bash");
    cmd.arg(script)
        .env("NANBYO_IMPORT_DIR", &base)
        .env("NANBYO_INBOX", &inbox)
        .env("NANBYO_IMPORT_AS", &me)
        .env("NANBYO_BIN", env!("CARGO_BIN_EXE_nanbyo-accounts"))
        .env("NANBYO_DATA_DIR", c.dir.path())
        .env("ROCKET_CONFIG", c.dir.path().join("none.toml"));
    c.configure(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = |d: &str| {
        let mut v: Vec<String> = std::fs::read_dir(base.join(d))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let done = list("done");
    let failed = list("failed");
    assert_eq!(done.len(), 2, "{done:?}");
    assert!(done[0].ends_with("-good.csv") && done[1].ends_with("-good.csv.result.txt"));
    assert!(failed[0].ends_with("-bad.csv") && failed[1].ends_with("-bad.csv.result.txt"));
    let good = std::fs::read_to_string(base.join("done").join(&done[1])).unwrap();
    assert!(
        good.contains("1件を登録しました") && good.contains("髙橋　美咲"),
        "{good}"
    );
    let bad = std::fs::read_to_string(base.join("failed").join(&failed[1])).unwrap();
    assert!(
        bad.contains("部署を入力してください。") && bad.contains("1件も登録していません"),
        "{bad}"
    );
    assert!(!inbox.join("good.csv").exists());
    // The history keeps the refused attempt too.
    assert!(c
        .query_one("SELECT origin FROM imports WHERE result = 'refused'")
        .contains("inbox/bad.csv"));
    // The origin is the inbox path.
    assert!(c
        .query_one("SELECT origin FROM imports WHERE result = 'committed'")
        .contains("inbox/good.csv"));
}

/// The login IDs the import printed ("行\tログインID\t氏名" per account).
fn printed_login_ids(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split('\t').nth(1).map(str::to_string))
        .collect()
}

/// 人事異動 from the console: a change file (ログインID, 部署, 更新番号) is applied whole or not at all;
/// a crash midway or just before the commit changes nobody; the same file twice is refused.
#[test]
fn a_change_file_from_the_console_is_applied_once_and_whole() {
    let c = Console::new();
    let me = c.responsible();
    let mut text = format!("\u{feff}{HEADER}");
    for i in 0..40 {
        text.push_str(&format!(
            "医療クラーク等,第2病棟,職員,{i}号,ショクイン,ゴウ,,,,\n"
        ));
    }
    let (ok, out, err) = c.run(&["import", &c.write("new.csv", text.as_bytes()), "--as", &me]);
    assert!(ok, "{err}");
    let ids = printed_login_ids(&out);
    assert_eq!(ids.len(), 40);
    let mut change = String::from("ログインID,部署,更新番号,削除\n");
    for (i, id) in ids.iter().enumerate() {
        let delete = if i == 0 { "削除" } else { "" };
        change.push_str(&format!("{id},第10病棟,1,{delete}\n"));
    }
    let file = c.write("異動.csv", &excel_sjis(&change));
    let moved = || {
        c.query_one("SELECT COUNT(*) FROM users WHERE department = '第10病棟'")
            .parse::<usize>()
            .unwrap()
    };
    let deleted = || {
        c.query_one("SELECT COUNT(*) FROM users WHERE deleted_at IS NOT NULL")
            .parse::<usize>()
            .unwrap()
    };
    let (ok, out, err) = c.run(&["import", &file, "--as", &me, "--dry-run"]);
    assert!(ok, "{err}");
    assert!(out.contains("40件を変更できます（Shift_JIS）"), "{out}");
    assert!(out.contains("部署 第2病棟 → 第10病棟"), "{out}");
    assert_eq!((moved(), deleted()), (0, 0));
    for step in ["change-midway", "change-before-commit"] {
        let (ok, _, err) = c.run_env(
            &["import", &file, "--as", &me],
            &[("NANBYO_TEST_FAILPOINT", &format!("import:{step}"))],
        );
        assert!(
            !ok && err.contains(&format!("failpoint import:{step}")),
            "{err}"
        );
        c.assert_intact(step);
        assert_eq!((moved(), deleted()), (0, 0), "{step}: nothing applied");
    }
    let (ok, out, err) = c.run(&["import", &file, "--as", &me]);
    assert!(ok, "{err}");
    assert!(out.contains("40件の変更を反映しました"), "{out}");
    assert_eq!((moved(), deleted()), (39, 1));
    assert_eq!(
        c.query_one("SELECT COUNT(*) FROM users WHERE profile_version = 2"),
        "39"
    );
    let (ok, _, err) = c.run(&["import", &file, "--as", &me]);
    assert!(
        !ok && err.contains("取り込み済みです"),
        "never twice: {err}"
    );
    assert_eq!(
        c.query_one("SELECT kind FROM imports WHERE result = 'committed' ORDER BY id DESC LIMIT 1"),
        "change"
    );
    assert!(c.run(&["audit", "verify"]).0);
}

/// The inbox takes change files only when import.env says NANBYO_IMPORT_CHANGES=allow.
#[test]
fn the_inbox_refuses_change_files_unless_allowed() {
    let c = Console::new();
    let me = c.responsible();
    let (ok, out, err) = c.run(&[
        "import",
        &c.write(
            "new.csv",
            format!("\u{feff}{HEADER}医療クラーク等,外来,髙橋,美咲,タカハシ,ミサキ,,,,\n")
                .as_bytes(),
        ),
        "--as",
        &me,
    ]);
    assert!(ok, "{err}");
    let id = printed_login_ids(&out).remove(0);
    let base = c.dir.path().join("import");
    let inbox = base.join("inbox");
    std::fs::create_dir_all(&inbox).unwrap();
    let run = |allow: Option<&str>| {
        std::fs::write(
            inbox.join("異動.csv"),
            excel_sjis(&format!("ログインID,部署,更新番号,削除\n{id},病棟,1,\n")),
        )
        .unwrap();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/systemd/nanbyo-import-inbox");
        let mut cmd = Command::new("bash");
        cmd.arg(script)
            .env("NANBYO_IMPORT_DIR", &base)
            .env("NANBYO_INBOX", &inbox)
            .env("NANBYO_IMPORT_AS", &me)
            .env("NANBYO_BIN", env!("CARGO_BIN_EXE_nanbyo-accounts"))
            .env("NANBYO_DATA_DIR", c.dir.path())
            .env("ROCKET_CONFIG", c.dir.path().join("none.toml"));
        if let Some(v) = allow {
            cmd.env("NANBYO_IMPORT_CHANGES", v);
        }
        c.configure(&mut cmd);
        assert!(cmd.output().unwrap().status.success());
    };
    let department = || c.query_one("SELECT department FROM users WHERE family_name = '髙橋'");
    run(None);
    let failed: Vec<String> = std::fs::read_dir(base.join("failed"))
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().to_string())
        .filter(|p| p.ends_with(".result.txt"))
        .collect();
    assert_eq!(failed.len(), 1);
    let result = std::fs::read_to_string(&failed[0]).unwrap();
    assert!(
        result.contains("変更ファイルを受け付けない設定です"),
        "{result}"
    );
    assert_eq!(department(), "外来");
    run(Some("allow"));
    assert_eq!(department(), "病棟");
}
