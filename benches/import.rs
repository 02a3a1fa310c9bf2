//! Benchmark (not a test): a 10,000-row Shift_JIS file through the CLI's `import` — decode + parse +
//! validate time and commit time (as the command reports them), total wall time, and the command's
//! peak memory; then a 人事異動 change file of the same accounts (the search export's 20 columns, every
//! 部署 changed and one row in a hundred deleted), checked and applied the same way.
//!
//!     cargo bench --bench import [-- ROWS]

use std::process::Command;
use std::time::Instant;

fn main() {
    let rows: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_nanbyo-accounts"))
            .args(args)
            .env("NANBYO_DATA_DIR", dir.path())
            .env("ROCKET_CONFIG", dir.path().join("none.toml"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    run(&[
        "municipality",
        "add",
        "--code",
        "131041",
        "--name",
        "新宿区",
    ]);
    run(&[
        "institution",
        "add",
        "--code",
        "1311234567",
        "--name",
        "東京中央病院",
        "--municipality",
        "131041",
    ]);
    let (out, _) = run(&[
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
    let me = out
        .lines()
        .find_map(|l| l.strip_prefix("ログインID: "))
        .unwrap()
        .to_string();
    let family = [
        "髙橋", "山﨑", "渡邊", "齋藤", "佐藤", "鈴木", "田中", "伊藤",
    ];
    let mut text = String::from("ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,メールアドレス,電話番号,有効期限,備考\r\n");
    for i in 0..rows {
        text.push_str(&format!(
            "医療クラーク等,病棟{},{},花子{i},ﾀﾅｶ,ﾊﾅｺ,hanako{i}@example.jp,03-1234-{:04},2027/3/31,\r\n",
            i % 40,
            family[i % family.len()],
            i % 10_000
        ));
    }
    let (bytes, _, errors) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!errors);
    let file = dir.path().join("import.csv");
    std::fs::write(&file, &bytes).unwrap();
    let t = Instant::now();
    let (out, err) = run(&["import", file.to_str().unwrap(), "--as", &me]);
    let total = t.elapsed();
    let registered = out.lines().filter(|l| l.contains('\t')).count();
    println!(
        "{rows} rows, {} bytes (Shift_JIS), {registered} accounts registered",
        bytes.len()
    );
    println!(
        "reported by the command: {}",
        err.lines()
            .find(|l| l.starts_with("確認"))
            .unwrap_or("(no timing line)")
    );
    println!(
        "total wall time of `import` (process start to exit): {:.3} s",
        total.as_secs_f64()
    );

    // The change file: what the search's CSV export holds for these accounts, edited.
    let today = {
        let jst = time::OffsetDateTime::now_utc() + time::Duration::hours(9);
        format!(
            "{:04}/{:02}/{:02}",
            jst.year(),
            u8::from(jst.month()),
            jst.day()
        )
    };
    let ids: Vec<&str> = out.lines().filter_map(|l| l.split('\t').nth(1)).collect();
    let mut change = String::from("ログインID,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,ユーザ種別,対象DB,医療機関コード,医療機関名,部署,医籍登録番号,メールアドレス,電話番号,有効期限,状態,登録日,最終ログイン,備考,更新番号,削除\r\n");
    for (i, id) in ids.iter().enumerate() {
        let delete = if i % 100 == 0 { "削除" } else { "" };
        change.push_str(&format!(
            "{id},{},花子{i},タナカ,ハナコ,医療クラーク等,難病DB,1311234567,東京中央病院,病棟{},,hanako{i}@example.jp,03-1234-{:04},2027/3/31,通知書未発行,{today},未ログイン,,1,{delete}\r\n",
            family[i % family.len()],
            (i + 1) % 40,
            i % 10_000
        ));
    }
    let (bytes, _, errors) = encoding_rs::SHIFT_JIS.encode(&change);
    assert!(!errors);
    let file = dir.path().join("change.csv");
    std::fs::write(&file, &bytes).unwrap();
    let t = Instant::now();
    let (out, err) = run(&["import", file.to_str().unwrap(), "--as", &me]);
    let total = t.elapsed();
    println!(
        "change file: {} rows, {} bytes (Shift_JIS), {} accounts changed or deleted",
        ids.len(),
        bytes.len(),
        out.lines().filter(|l| l.contains('\t')).count()
    );
    println!(
        "reported by the command: {}",
        err.lines()
            .find(|l| l.starts_with("確認"))
            .unwrap_or("(no timing line)")
    );
    println!(
        "total wall time of the change file's `import`: {:.3} s",
        total.as_secs_f64()
    );
}
