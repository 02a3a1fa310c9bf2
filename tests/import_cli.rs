//! CSV一括登録 from the console (`import FILE --as LOGIN_ID`): an Excel file in Shift_JIS registers every
//! row or none, the same file twice never registers anyone twice, warnings need confirmation.

use std::path::Path;
use std::process::Command;

struct Console {
    dir: tempfile::TempDir,
}

impl Console {
    fn new() -> Console {
        Console {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn run(&self, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"))
            .args(args)
            .env("NANBYO_DATA_DIR", self.dir.path())
            .env("ROCKET_CONFIG", self.dir.path().join("none.toml"))
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    }

    fn responsible(&self) -> String {
        assert!(
            self.run(&[
                "municipality",
                "add",
                "--code",
                "131041",
                "--name",
                "新宿区"
            ])
            .0
        );
        assert!(
            self.run(&[
                "institution",
                "add",
                "--code",
                "1311234567",
                "--name",
                "東京中央病院",
                "--municipality",
                "131041"
            ])
            .0
        );
        let (ok, out, err) = self.run(&[
            "bootstrap",
            "--institution",
            "1311234567",
            "--db",
            "nanbyo",
            "--family",
            "責任",
            "--given",
            "者",
            "--family-kana",
            "セキニン",
            "--given-kana",
            "シャ",
            "--department",
            "医事課",
        ]);
        assert!(ok, "{err}");
        out.lines()
            .find_map(|l| l.strip_prefix("ログインID: "))
            .unwrap()
            .to_string()
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.to_string_lossy().to_string()
    }

    fn users(&self) -> usize {
        let (ok, out, _) = self.run(&["audit", "verify"]);
        assert!(ok, "the audit chain verifies after every import");
        let _ = out;
        let db = self.dir.path().join("nanbyo.db");
        count_users(&db)
    }
}

fn count_users(db: &Path) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
        let n: i64 = sqlx::query("SELECT COUNT(*) FROM users")
            .fetch_one(&pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        pool.close().await;
        n as usize
    })
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
