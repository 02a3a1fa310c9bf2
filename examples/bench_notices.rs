//! Benchmark of the IDパスワード発行通知書 PDFs: 1,000 notices in one PDF, and, where
//! `/usr/bin/chromium` exists, the same notices as one HTML page printed by headless Chromium.
//!
//! `cargo run --release --example bench_notices [COUNT]` (COUNT defaults to 1,000). The PDF
//! render is timed three times (the machine may be busy) and the best is compared.
//! `NO_CHROMIUM=1` skips Chromium; `BENCH_KEEP=1` keeps the files written (paths printed).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use nanbyo_accounts::pdf::{render, Notice, NoticeFonts};

/// The password alphabet: no look-alikes (0/O, 1/l/I).
const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789%#$+=!?";
const ID_ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

/// xorshift64*: plenty for fake passwords in a benchmark (never for real ones).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn string(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| char::from(alphabet[(self.next() % alphabet.len() as u64) as usize]))
            .collect()
    }
}

fn notices(count: usize) -> Vec<Notice> {
    const NAMES: [(&str, &str); 6] = [
        ("髙橋　美咲", "タカハシ　ミサキ"),
        ("山﨑　健一", "ヤマザキ　ケンイチ"),
        ("齋藤　花子", "サイトウ　ハナコ"),
        ("渡邊　德太郎", "ワタナベ　トクタロウ"),
        ("濵田　さくら", "ハマダ　サクラ"),
        ("佐藤　一郎", "サトウ　イチロウ"),
    ];
    const DEPARTMENTS: [&str; 4] = ["医事課", "内科外来", "地域医療連携室", "診療情報管理室"];
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    (0..count)
        .map(|i| {
            let (name, kana) = NAMES[i % NAMES.len()];
            Notice {
                issued_on: "2026/11/24（令和8年11月24日）".into(),
                institution_name: "東京中央病院".into(),
                institution_code: "1312345678".into(),
                municipality_name: String::new(),
                db_label: if i % 3 == 0 { "小慢DB" } else { "難病DB" }.into(),
                user_type_label: "医療クラーク等".into(),
                department: DEPARTMENTS[i % DEPARTMENTS.len()].into(),
                full_name: name.into(),
                kana: kana.into(),
                login_id: rng.string(ID_ALPHABET, 8),
                password: rng.string(ALPHABET, 16),
                password_expires: "2026/12/08 21:41".into(),
                login_url: "https://nanbyo.tokyo-chuo-hp.local/login".into(),
                issuer: "東京中央病院 医事課 髙橋　美咲（責任者）".into(),
                contact: "東京中央病院 医事課 システム担当\n内線 1234（平日 9:00〜17:00）".into(),
                manager: nanbyo_accounts::domain::roles::Manager::Institution,
            }
        })
        .collect()
}

/// Pages of a PDF: the largest `/Count` of its page tree (the root's).
fn page_count(pdf: &[u8]) -> usize {
    let needle = b"/Count";
    pdf.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .filter_map(|(i, _)| {
            let digits: String = pdf[i + needle.len()..]
                .iter()
                .skip_while(|b| b.is_ascii_whitespace())
                .take_while(|b| b.is_ascii_digit())
                .map(|&b| char::from(b))
                .collect();
            digits.parse::<usize>().ok()
        })
        .max()
        .unwrap_or(0)
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1000);
    let batch = notices(count);

    let start = Instant::now();
    let fonts = NoticeFonts::embedded().expect("embedded fonts");
    println!(
        "fonts parsed ({}): {:.3} s",
        fonts.name(),
        secs(start.elapsed())
    );

    let start = Instant::now();
    let one = render(&batch[..1], false, &fonts).expect("one notice");
    println!(
        "1 notice:          {:.3} s, {} bytes ({:.3} MB)",
        secs(start.elapsed()),
        one.len(),
        mb(one.len())
    );

    let mut runs = Vec::new();
    let mut pdf = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        pdf = render(&batch, false, &fonts).expect("notices");
        runs.push(start.elapsed());
    }
    let printpdf_time = runs.iter().min().copied().unwrap_or_default();
    let all: Vec<String> = runs.iter().map(|d| format!("{:.3}", secs(*d))).collect();
    println!(
        "{count} notices:    {:.3} s (best of {} s), {} bytes ({:.3} MB), {} pages",
        secs(printpdf_time),
        all.join(" / "),
        pdf.len(),
        mb(pdf.len()),
        page_count(&pdf)
    );

    let start = Instant::now();
    let with_list = render(&batch, true, &fonts).expect("notices and receipt list");
    println!(
        "{count} + 交付管理表: {:.3} s, {} bytes ({:.3} MB), {} pages",
        secs(start.elapsed()),
        with_list.len(),
        mb(with_list.len()),
        page_count(&with_list)
    );

    if std::env::var_os("NO_CHROMIUM").is_some() {
        println!("chromium: skipped (NO_CHROMIUM is set)");
        return;
    }
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        println!("chromium: /usr/bin/chromium not found, HTML comparison skipped");
        return;
    }
    let dir = std::env::temp_dir().join(format!("bench_notices_{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let html_path = dir.join("notices.html");
    let pdf_path = dir.join("notices.pdf");
    std::fs::write(&html_path, html(&batch)).expect("write HTML");
    let start = Instant::now();
    let status = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--no-pdf-header-footer",
        ])
        .arg(format!("--print-to-pdf={}", pdf_path.display()))
        .arg(format!("file://{}", html_path.display()))
        .output();
    let chromium_time = start.elapsed();
    match status {
        Ok(out) if out.status.success() && pdf_path.exists() => {
            let chromium_pdf = std::fs::read(&pdf_path).expect("read Chromium's PDF");
            println!(
                "chromium {count} notices (HTML → PDF): {:.3} s, {} bytes ({:.3} MB), {} pages",
                secs(chromium_time),
                chromium_pdf.len(),
                mb(chromium_pdf.len()),
                page_count(&chromium_pdf)
            );
            println!(
                "ratio chromium / printpdf: time {:.1}×, size {:.1}×",
                secs(chromium_time) / secs(printpdf_time),
                chromium_pdf.len() as f64 / pdf.len() as f64
            );
        }
        Ok(out) => println!(
            "chromium failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        ),
        Err(e) => println!("chromium could not be started: {e}"),
    }
    if std::env::var_os("BENCH_KEEP").is_some() {
        let ours = dir.join("printpdf.pdf");
        let _ = std::fs::write(&ours, &pdf);
        println!(
            "kept: {}, {}, {}",
            html_path.display(),
            pdf_path.display(),
            ours.display()
        );
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The project's fonts folder, for the HTML's @font-face (file:// URLs).
fn fonts_dir() -> Option<PathBuf> {
    let here = Path::new(file!());
    [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fonts"),
        here.parent()?.parent()?.join("fonts"),
    ]
    .into_iter()
    .find(|d| d.join("ipaexg.ttf").exists())
    .and_then(|d| d.canonicalize().ok())
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The same notices as one HTML page, one notice per printed A4 page.
fn html(notices: &[Notice]) -> String {
    let faces = match fonts_dir() {
        Some(dir) => format!(
            "@font-face {{ font-family: NoticeText; src: url('file://{0}/ipaexg.ttf'); }}\n\
             @font-face {{ font-family: NoticeMono; src: url('file://{0}/ipag.ttf'); }}\n",
            dir.display()
        ),
        None => "@font-face { font-family: NoticeText; src: local('IPAexGothic'); }\n\
                 @font-face { font-family: NoticeMono; src: local('IPAGothic'); }\n"
            .to_string(),
    };
    let mut out = String::with_capacity(notices.len() * 4096);
    out.push_str("<!DOCTYPE html><html lang=\"ja\"><head><meta charset=\"utf-8\">");
    out.push_str("<title>IDパスワード発行通知書</title><style>\n");
    out.push_str(&faces);
    out.push_str(
        "@page { size: A4 portrait; margin: 12mm 20mm; }\n\
         body { font-family: NoticeText, sans-serif; font-size: 10.5pt; margin: 0; }\n\
         .notice { page-break-after: always; }\n\
         .top { display: flex; justify-content: space-between; font-size: 10pt; }\n\
         .stamp { border: 1px solid #000; padding: 1mm 2mm; }\n\
         h1 { text-align: center; font-size: 22pt; font-weight: normal; margin: 6mm 0 1mm; }\n\
         .system { text-align: center; font-size: 11pt; border-bottom: 3px double #000;\n\
                   padding-bottom: 2mm; margin-bottom: 3mm; }\n\
         table { width: 100%; border-collapse: collapse; margin: 3mm 0 7mm; }\n\
         th, td { border: 0.5pt solid #000; padding: 2mm 3mm; text-align: left; font-weight: normal; }\n\
         th { background: #ebebeb; width: 34mm; font-size: 9.5pt; }\n\
         .kana { font-size: 8pt; } .name { font-size: 15pt; }\n\
         .cred { border: 1.5pt solid #000; margin-bottom: 7mm; }\n\
         .cred .band { background: #d1d1d1; padding: 1.5mm 5mm; border-bottom: 0.5pt solid #000; }\n\
         .row { display: flex; align-items: center; padding: 3mm 5mm; }\n\
         .row .label { width: 33mm; }\n\
         .id { font-family: NoticeMono, monospace; font-size: 20pt; letter-spacing: 3pt; }\n\
         .pw { flex: none; white-space: nowrap; }\n\
         .pw span { display: inline-block; width: 7.6mm; text-align: center; box-sizing: border-box; }\n\
         .pw .c { font-family: NoticeMono, monospace; font-size: 20pt; border: 0.5pt solid #000;\n\
                  line-height: 10mm; }\n\
         .pw .k { font-size: 5.5pt; color: #4d4d4d; }\n\
         ol { margin: 2mm 0 6mm; padding-left: 8mm; }\n",
    );
    out.push_str("</style></head><body>\n");
    for n in notices {
        let class = |c: char| match c {
            'a'..='z' => "英小",
            'A'..='Z' => "英大",
            '0'..='9' => "数字",
            _ => "記号",
        };
        let cells: String = n
            .password
            .chars()
            .map(|c| format!("<span class=\"c\">{}</span>", esc(&c.to_string())))
            .collect();
        let classes: String = n
            .password
            .chars()
            .map(|c| format!("<span class=\"k\">{}</span>", class(c)))
            .collect();
        let _ = writeln!(
            out,
            "<section class=\"notice\">\
             <div class=\"top\"><span class=\"stamp\">取扱注意</span><span>発行日: {issued}</span></div>\
             <h1>IDパスワード発行通知書</h1>\
             <div class=\"system\">難病・小慢データベース 医療機関ユーザ</div>\
             <p>下記のとおり、ログインIDと初期パスワードを発行しましたのでお知らせします。</p>\
             <table><tr><th>医療機関名（コード）</th><td>{org}（{code}）</td></tr>\
             <tr><th>対象DB</th><td>{db}</td></tr><tr><th>ユーザ種別</th><td>{ut}</td></tr>\
             <tr><th>部署</th><td>{dept}</td></tr>\
             <tr><th>氏名</th><td><div class=\"kana\">{kana}</div><span class=\"name\">{name}</span> 様</td></tr></table>\
             <div class=\"cred\"><div class=\"band\">ログイン情報</div>\
             <div class=\"row\"><span class=\"label\">ログインID</span><span class=\"id\">{id}</span></div>\
             <div class=\"row\"><span class=\"label\">初期パスワード</span><div class=\"pw\"><div>{cells}</div><div>{classes}</div></div></div>\
             <div class=\"row\">初期パスワードの有効期限: {exp}</div></div>\
             <table><tr><th>ログインURL</th><td>{url}</td></tr></table>\
             <div>ご注意</div><ol>\
             <li>初回ログイン時にパスワードの変更が必要です。</li>\
             <li>この通知書は他人に見られないよう大切に保管してください。</li>\
             <li>パスワード変更後はこの通知書を破棄（シュレッダー等）してください。</li>\
             <li>新しい通知書が発行されると、この通知書の初期パスワードは使えなくなります。</li>\
             <li>有効期限を過ぎた場合は責任者に再発行を依頼してください。</li></ol>\
             <table><tr><th>発行者</th><td>{issuer}</td></tr>\
             <tr><th>お問い合わせ先</th><td>{contact}</td></tr></table></section>",
            issued = esc(&n.issued_on),
            org = esc(&n.institution_name),
            code = esc(&n.institution_code),
            db = esc(&n.db_label),
            ut = esc(&n.user_type_label),
            dept = esc(&n.department),
            kana = esc(&n.kana),
            name = esc(&n.full_name),
            id = esc(&n.login_id),
            exp = esc(&n.password_expires),
            url = esc(&n.login_url),
            issuer = esc(&n.issuer),
            contact = esc(&n.contact).replace('\n', "<br>"),
        );
    }
    out.push_str("</body></html>\n");
    out
}
