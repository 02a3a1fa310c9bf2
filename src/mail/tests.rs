use super::delivery::recipient;
use super::messages::{self, Administrator, Locked, Registered};
use super::*;
use crate::config::Settings;
use crate::domain::{Db, UserType};

/// 2026-11-24 09:00 JST.
const AT: i64 = 1_795_478_400;

fn clerk() -> Registered<'static> {
    Registered {
        full_name: "山﨑\u{3000}花子",
        user_type: UserType::Clerk,
        db: Some(Db::Nanbyo),
        institution_name: Some("東京中央病院"),
        institution_code: Some("1311234567"),
        municipality_name: "新宿区",
        department: "医事課",
    }
}

fn locked(auto_release_minutes: i64) -> Locked<'static> {
    Locked {
        full_name: "山﨑\u{3000}花子",
        login_id: "K7MPQ2XR",
        department: "医事課",
        user_type: UserType::Clerk,
        db: Some(Db::Nanbyo),
        institution_name: Some("東京中央病院"),
        failures: 5,
        at: AT,
        auto_release_minutes,
    }
}

/// No line gives a password a value (「パスワード：…」, 「初期パスワード: …」).
fn gives_no_password(text: &str) {
    for line in text.lines() {
        for marker in ["パスワード：", "パスワード:", "パスワード　："] {
            assert!(!line.contains(marker), "a password value in: {line}");
        }
    }
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "a link in: {text}"
    );
}

#[test]
fn the_registration_mail_names_the_person_and_who_hands_over_the_notice() {
    let (subject, body) = messages::registration(&clerk(), AT);
    assert_eq!(
        subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウント登録のお知らせ"
    );
    assert!(body.starts_with("山﨑\u{3000}花子 様\n"), "{body}");
    for part in [
        "アカウントが登録されました",
        "東京中央病院（医療機関コード 1311234567）",
        "対象DB　　：難病DB",
        "ユーザ種別：医療クラーク等",
        "部署　　　：医事課",
        "2026/11/24 09:00",
        "「IDパスワード発行通知書」により、東京中央病院の責任者または指定医からお渡しします",
        "お心当たりのない場合は、東京中央病院の責任者または指定医にお問い合わせください",
    ] {
        assert!(body.contains(part), "missing {part} in:\n{body}");
    }
    // No login ID and no password: the notice carries them.
    assert!(!body.contains("ログインID：") && !body.contains("ログインID:"));
    gives_no_password(&body);
}

#[test]
fn the_registration_mail_sends_each_type_to_its_manager() {
    let admin = |t| Administrator::of(t, "東京中央病院", "新宿区").text();
    assert_eq!(admin(UserType::Clerk), "東京中央病院の責任者または指定医");
    assert_eq!(admin(UserType::Responsible), "東京中央病院の責任者");
    for doctor in [
        UserType::NanbyoDoctor,
        UserType::CooperatingDoctor,
        UserType::ShomanDoctor,
    ] {
        assert_eq!(admin(doctor), "新宿区（自治体）の担当者");
    }
    assert_eq!(
        admin(UserType::MunicipalOfficer),
        "このシステムのシステム管理者"
    );
    let doctor = Registered {
        user_type: UserType::ShomanDoctor,
        db: Some(Db::Shoman),
        ..clerk()
    };
    let (_, body) = messages::registration(&doctor, AT);
    assert!(
        body.contains("新宿区（自治体）の担当者からお渡しします"),
        "{body}"
    );
    assert!(body.contains("小児慢性特定疾病指定医"));
}

#[test]
fn the_lock_mail_names_the_account_the_time_and_what_to_do() {
    let (subject, body) = messages::lock("責任\u{3000}花子", &locked(30));
    assert_eq!(
        subject,
        "【難病・小慢DB 医療機関ユーザ管理】アカウントロックのお知らせ（山﨑\u{3000}花子 様）"
    );
    assert!(body.starts_with("責任\u{3000}花子 様\n"));
    for part in [
        "パスワードの誤入力が5回続いたためロックされました",
        "氏名　　　：山﨑\u{3000}花子",
        "ログインID：K7MPQ2XR",
        "部署　　　：医事課",
        "東京中央病院（難病DB）",
        "ロック日時：2026/11/24 09:00（日本時間）",
        "医療機関ユーザ検索画面",
        "［アカウントロック解除］",
        "ご本人であることを確認したうえで",
        "30分後（2026/11/24 09:30頃）に自動的に解除されます",
    ] {
        assert!(body.contains(part), "missing {part} in:\n{body}");
    }
    gives_no_password(&body);
    let (_, by_hand) = messages::lock("責任\u{3000}花子", &locked(0));
    assert!(by_hand.contains("自動では解除されません"));
    assert!(!by_hand.contains("分後"));
}

fn mail() -> Mail {
    Mail::registration("yamazaki@hospital.example.jp", &clerk(), AT)
}

#[test]
fn the_outbox_writes_one_mime_encoded_eml_file_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(
        dir.path(),
        Some("難病・小慢DB ユーザ管理 <nanbyo@hospital.example.jp>"),
    );
    let m = mail();
    let path = outbox.write(&m, AT).unwrap();
    assert_eq!(path.parent().unwrap(), outbox_dir(dir.path()));
    let name = path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.starts_with("20261124-090000-registered-") && name.ends_with(".eml"),
        "{name}"
    );
    // Only the message: no temporary file left behind.
    let files: Vec<_> = std::fs::read_dir(outbox.dir()).unwrap().collect();
    assert_eq!(files.len(), 1);
    let raw = std::fs::read(&path).unwrap();
    // MIME-encoded: the file itself is ASCII; Japanese travels as encoded words and base64/QP.
    assert!(raw.is_ascii());
    let text = String::from_utf8(raw.clone()).unwrap();
    assert!(
        text.contains("Content-Type: text/plain; charset=utf-8"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"));
    let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
    assert_eq!(parsed.subject(), Some(m.subject.as_str()));
    let body = parsed.body_text(0).unwrap().replace("\r\n", "\n");
    assert_eq!(body.trim_end(), m.body.trim_end());
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.address(), Some("yamazaki@hospital.example.jp"));
    assert_eq!(to.name(), Some("山﨑\u{3000}花子 様"));
    let from = parsed.from().unwrap().first().unwrap();
    assert_eq!(from.address(), Some("nanbyo@hospital.example.jp"));
    assert_eq!(
        recipient(&raw).as_deref(),
        Some("yamazaki@hospital.example.jp")
    );
    // Unix: readable by the service's user only.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn a_mail_that_cannot_be_written_is_logged_not_returned() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Outbox::new(dir.path(), None);
    let mut bad = mail();
    bad.to_address = "not an address".into();
    assert!(outbox.post(&[bad, mail()], AT).len() == 1);
    // A data folder that is a file: nothing is written, nothing panics.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"x").unwrap();
    assert!(Outbox::new(&file, None).post(&[mail()], AT).is_empty());
}

#[test]
fn smtp_settings_that_cannot_work_are_refused_in_japanese() {
    let dir = tempfile::tempdir().unwrap();
    let base = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    assert!(Delivery::from_settings(&base).unwrap().is_none());
    let smtp = |adjust: &dyn Fn(&mut Settings)| {
        let mut s = base.clone();
        s.smtp_host = Some("mail.hospital.example.jp".into());
        s.mail_from = Some("nanbyo@hospital.example.jp".into());
        adjust(&mut s);
        Delivery::from_settings(&s).map(|d| d.map(|d| d.server().to_string()))
    };
    assert_eq!(
        smtp(&|_| {}).unwrap().as_deref(),
        Some("mail.hospital.example.jp:587（STARTTLS）")
    );
    assert!(smtp(&|s| s.mail_from = None)
        .unwrap_err()
        .contains("mail_from"));
    assert!(smtp(&|s| s.mail_from = Some("@@".into()))
        .unwrap_err()
        .contains("mail_from"));
    assert!(smtp(&|s| s.smtp_tls = "ssl3".into())
        .unwrap_err()
        .contains("smtp_tls"));
    assert!(smtp(&|s| s.smtp_tls = "none".into())
        .unwrap_err()
        .contains("127.0.0.1"));
    assert!(smtp(&|s| {
        s.smtp_tls = "none".into();
        s.smtp_host = Some("127.0.0.1".into());
    })
    .is_ok());
    assert_eq!(
        smtp(&|s| {
            s.smtp_tls = "tls".into();
            s.smtp_port = 465;
        })
        .unwrap()
        .as_deref(),
        Some("mail.hospital.example.jp:465（TLS）")
    );
    let missing = dir.path().join("missing-ca.pem");
    assert!(smtp(&|s| s.smtp_ca_file = Some(missing.clone()))
        .unwrap_err()
        .contains("smtp_ca_file"));
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, b"hello").unwrap();
    assert!(smtp(&|s| s.smtp_ca_file = Some(not_pem.clone()))
        .unwrap_err()
        .contains("PEM"));
    if std::env::var_os("NANBYO_SMTP_PASSWORD").is_none() {
        assert!(smtp(&|s| s.smtp_username = Some("nanbyo".into()))
            .unwrap_err()
            .contains("NANBYO_SMTP_PASSWORD"));
        let pw = dir.path().join("smtp.password");
        std::fs::write(&pw, "s3cret\n").unwrap();
        assert!(smtp(&|s| {
            s.smtp_username = Some("nanbyo".into());
            s.smtp_password_file = Some(pw.clone());
        })
        .is_ok());
        assert!(smtp(&|s| s.smtp_password_file = Some(pw.clone()))
            .unwrap_err()
            .contains("smtp_username"));
    }
}

#[test]
fn the_recipient_is_read_from_a_folded_to_header() {
    let raw = b"From: a@b.jp\r\nTo: =?utf-8?b?5bGx5bSO?=\r\n <x.y@hospital.example.jp>\r\nSubject: s\r\n\r\nTo: not@this.jp\r\n";
    assert_eq!(recipient(raw).as_deref(), Some("x.y@hospital.example.jp"));
    assert_eq!(
        recipient(b"To: plain@example.jp\r\n\r\n").as_deref(),
        Some("plain@example.jp")
    );
    assert_eq!(recipient(b""), None);
    assert_eq!(recipient(b"Subject: x\r\n\r\nTo: a@b.jp"), None);
}

#[test]
fn tls_modes() {
    assert_eq!(TlsMode::parse("starttls"), Some(TlsMode::StartTls));
    assert_eq!(TlsMode::parse("STARTTLS"), Some(TlsMode::StartTls));
    assert_eq!(TlsMode::parse("tls"), Some(TlsMode::Tls));
    assert_eq!(TlsMode::parse("none"), Some(TlsMode::None));
    assert_eq!(TlsMode::parse("plain"), None);
}
