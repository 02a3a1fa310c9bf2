//! Renders notices and reads them back with lopdf (which decodes the ToUnicode CMaps).

use std::sync::{Arc, OnceLock};

use super::{render, Notice, NoticeFonts, PdfError};

fn fonts() -> Arc<NoticeFonts> {
    static FONTS: OnceLock<Arc<NoticeFonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| Arc::new(NoticeFonts::embedded().expect("embedded fonts")))
        .clone()
}

fn notice(name: &str, kana: &str, login_id: &str, password: &str) -> Notice {
    Notice {
        issued_on: "2026/11/24（令和8年11月24日）".into(),
        institution_name: "東京中央病院".into(),
        institution_code: "1312345678".into(),
        municipality_name: "".into(),
        db_label: "難病DB".into(),
        user_type_label: "医療クラーク等".into(),
        department: "医事課".into(),
        full_name: name.into(),
        kana: kana.into(),
        login_id: login_id.into(),
        password: password.into(),
        password_expires: "2026/12/08 21:41".into(),
        login_url: "https://nanbyo.example.jp/login".into(),
        issuer: "東京中央病院 医事課 髙橋　美咲（責任者）".into(),
        contact: "東京中央病院 医事課 システム担当\n内線 1234（平日 9:00〜17:00）".into(),
        manager: crate::domain::roles::Manager::Institution,
    }
}

/// `n` notices with distinct login IDs and passwords.
fn batch(n: usize) -> Vec<Notice> {
    (0..n)
        .map(|i| {
            notice(
                &format!("山﨑　太郎{i}"),
                "ヤマザキ　タロウ",
                &format!("ID{i:06}"),
                &format!("Pw%{i:06}xyzABCD"),
            )
        })
        .collect()
}

fn parse(pdf: &[u8]) -> lopdf::Document {
    lopdf::Document::load_mem(pdf).expect("a PDF lopdf can read")
}

/// The text of page `n` (1-based), without the line breaks the extractor inserts.
fn page_text(doc: &lopdf::Document, n: u32) -> String {
    doc.extract_text(&[n])
        .expect("extractable text")
        .replace('\n', "")
}

#[test]
fn one_notice_has_its_text_for_variant_kanji_names() {
    let fonts = fonts();
    let cases = [
        (
            "髙橋　美咲",
            "タカハシ　ミサキ",
            "K7PHX3TQ",
            "xMqqKL%5chafk2A3",
        ),
        (
            "山﨑　健一",
            "ヤマザキ　ケンイチ",
            "M4RW8ZNB",
            "Tq#8vbn2WxPa9Hku",
        ),
        (
            "齋藤　花子",
            "サイトウ　ハナコ",
            "B9TQ2ZRM",
            "aB3$eF6hJ9kM2nP5",
        ),
        (
            "渡邊　德太郎",
            "ワタナベ　トクタロウ",
            "W2XY7KPC",
            "zz+99AAbbCC77dd!",
        ),
    ];
    for (name, kana, id, password) in cases {
        let pdf = render(&[notice(name, kana, id, password)], false, &fonts).unwrap();
        let doc = parse(&pdf);
        assert_eq!(doc.get_pages().len(), 1, "{name}");
        let text = page_text(&doc, 1);
        for wanted in [
            "IDパスワード発行通知書",
            "難病・小慢データベース 医療機関ユーザ",
            name,
            kana,
            id,
            password,
            "初期パスワードの有効期限: 2026/12/08 21:41",
            "https://nanbyo.example.jp/login",
            "東京中央病院（1312345678）",
            "医療クラーク等",
            "2026/11/24（令和8年11月24日）",
            "初回ログイン時にパスワードの変更が必要です",
            "内線 1234（平日 9:00〜17:00）",
        ] {
            assert!(text.contains(wanted), "{wanted:?} missing from {text:?}");
        }
    }
}

#[test]
fn title_metadata_is_the_document_name() {
    let pdf = render(&batch(1), false, &fonts()).unwrap();
    let doc = parse(&pdf);
    let info = doc
        .trailer
        .get(b"Info")
        .and_then(|o| o.as_reference())
        .unwrap();
    let title = doc
        .get_dictionary(info)
        .unwrap()
        .get(b"Title")
        .unwrap()
        .as_str()
        .unwrap()
        .to_vec();
    let units: Vec<u16> = title[2..]
        .chunks_exact(2)
        .map(|b| u16::from_be_bytes([b[0], b[1]]))
        .collect();
    assert_eq!(&title[..2], &[0xFE, 0xFF]);
    assert_eq!(
        String::from_utf16(&units).unwrap(),
        "IDパスワード発行通知書"
    );
}

#[test]
fn batch_with_receipt_list_puts_the_list_first_and_keeps_the_order() {
    let notices = vec![
        notice(
            "齋藤　花子",
            "サイトウ　ハナコ",
            "B9TQ2ZRM",
            "aB3$eF6hJ9kM2nP5",
        ),
        notice(
            "髙橋　美咲",
            "タカハシ　ミサキ",
            "K7PHX3TQ",
            "xMqqKL%5chafk2A3",
        ),
        notice(
            "渡邊　德太郎",
            "ワタナベ　トクタロウ",
            "W2XY7KPC",
            "zz+99AAbbCC77dd!",
        ),
    ];
    let pdf = render(&notices, true, &fonts()).unwrap();
    let doc = parse(&pdf);
    assert_eq!(doc.get_pages().len(), 4);
    let list = page_text(&doc, 1);
    assert!(list.contains("交付管理表"), "{list}");
    assert!(
        list.contains("受領者署名") && list.contains("受領日"),
        "{list}"
    );
    for n in &notices {
        assert!(
            list.contains(&n.login_id),
            "{} missing from {list}",
            n.login_id
        );
        assert!(
            list.contains(&n.full_name),
            "{} missing from {list}",
            n.full_name
        );
        assert!(list.contains(&n.kana), "{} missing from {list}", n.kana);
        assert!(
            !list.contains(&n.password),
            "the receipt list shows a password"
        );
        assert!(!list.contains("初期パスワード"), "{list}");
    }
    for (i, n) in notices.iter().enumerate() {
        let text = page_text(&doc, i as u32 + 2);
        assert!(
            text.contains(&n.login_id),
            "page {} lacks {}",
            i + 2,
            n.login_id
        );
        assert!(
            text.contains(&n.password),
            "page {} lacks its password",
            i + 2
        );
        for other in notices.iter().filter(|o| o.login_id != n.login_id) {
            assert!(
                !text.contains(&other.login_id),
                "page {} shows another ID",
                i + 2
            );
        }
    }
}

#[test]
fn receipt_list_paginates() {
    let notices = batch(30);
    let doc = parse(&render(&notices, true, &fonts()).unwrap());
    assert_eq!(doc.get_pages().len(), 2 + 30);
    let (first, second) = (page_text(&doc, 1), page_text(&doc, 2));
    assert!(first.contains("交付管理表") && second.contains("交付管理表"));
    assert!(first.contains("ID000000") && first.contains("ID000019"));
    assert!(!first.contains("ID000020"));
    assert!(second.contains("ID000020") && second.contains("ID000029"));
    assert!(first.contains("1 / 2") && second.contains("2 / 2"));
    assert!(page_text(&doc, 3).contains("ID000000"));
    assert!(page_text(&doc, 32).contains("ID000029"));
    let exactly_20 = parse(&render(&batch(20), true, &fonts()).unwrap());
    assert_eq!(exactly_20.get_pages().len(), 1 + 20);
}

#[test]
fn fonts_are_embedded_once_as_subsets() {
    let fonts = fonts();
    let one = render(&batch(1), false, &fonts).unwrap().len();
    let many = render(&batch(200), true, &fonts).unwrap().len();
    // The two fonts are 12 MB together: a subset notice is a few tens of kB, and 200 more
    // pages add only their own content (about 2 kB each), not 200 more fonts.
    assert!(
        one < 200_000,
        "a one-notice PDF is {one} bytes: the font is not subset"
    );
    assert!(
        many < 20 * one,
        "200 notices: {many} bytes, one notice: {one} bytes"
    );
    assert!(many < one + 200 * 3_000, "200 notices: {many} bytes");
    let doc = parse(&render(&batch(3), false, &fonts).unwrap());
    let font_programs = doc
        .objects
        .values()
        .filter_map(|o| o.as_dict().ok())
        .filter(|d| d.get(b"Type").and_then(|t| t.as_name()).ok() == Some(b"FontDescriptor"))
        .count();
    assert_eq!(font_programs, 2, "one text font and one mono font per PDF");
}

#[test]
fn missing_glyph_follows_the_text_font() {
    let fonts = fonts();
    assert_eq!(fonts.missing_glyph("𠮷田"), Some('𠮷'));
    assert_eq!(fonts.missing_glyph("髙橋﨑齋邊濵德"), None);
    assert_eq!(fonts.missing_glyph("髙橋　美咲 タカハシ\nミサキ"), None);
    assert_eq!(fonts.missing_glyph(""), None);
    assert!(fonts.name().contains("IPAex"), "{}", fonts.name());
}

#[test]
fn municipal_users_print_the_municipality() {
    let mut n = notice(
        "齋藤　花子",
        "サイトウ　ハナコ",
        "B9TQ2ZRM",
        "aB3$eF6hJ9kM2nP5",
    );
    n.institution_name.clear();
    n.institution_code.clear();
    n.db_label.clear();
    n.municipality_name = "新宿区".into();
    n.contact.clear();
    n.manager = crate::domain::roles::Manager::SystemAdministrator;
    let doc = parse(&render(&[n], true, &fonts()).unwrap());
    let text = page_text(&doc, 2);
    assert!(
        text.contains("自治体名") && text.contains("新宿区"),
        "{text}"
    );
    assert!(!text.contains("医療機関名（コード）"), "{text}");
    assert!(text.contains("自治体ユーザ"), "{text}");
    // Wrapped lines come back with a space between them.
    assert!(
        text.replace(' ', "")
            .contains("本システムの管理者にお問い合わせください"),
        "{text}"
    );
    assert!(page_text(&doc, 1).contains("新宿区"));
}

#[test]
fn long_values_and_odd_characters_still_render() {
    let mut n = notice(
        "𠮷田　太郎",
        "ヨシダ　タロウ",
        "K7PHX3TQ",
        "xMqqKL%5chafk2A3",
    );
    n.institution_name = "独立行政法人国立病院機構".repeat(4);
    n.login_url = format!("https://nanbyo.example.jp/{}", "very-long-path/".repeat(12));
    n.contact = "お問い合わせ\r\n".repeat(8) + &"長い行".repeat(60);
    n.department = "葛\u{E0100}飾\tセンター".into();
    let doc = parse(&render(&[n], false, &fonts()).unwrap());
    let text = page_text(&doc, 1);
    assert!(
        text.contains("K7PHX3TQ") && text.contains("田　太郎"),
        "{text}"
    );
    assert!(text.contains("葛飾 センター"), "{text}");
}

/// Names as long as the fields allow print whole on the notice and on the 交付管理表: shrunk or
/// wrapped, never cut with 「…」 (the paper must match the register).
#[test]
fn the_longest_names_print_whole() {
    use crate::domain::{Kana, PersonName};
    let family = "髙﨑邊齋"
        .repeat(PersonName::MAX)
        .chars()
        .take(PersonName::MAX)
        .collect::<String>();
    let given = "長谷川"
        .repeat(PersonName::MAX)
        .chars()
        .take(PersonName::MAX)
        .collect::<String>();
    let kana = "タカサキ"
        .repeat(Kana::MAX)
        .chars()
        .take(Kana::MAX)
        .collect::<String>();
    for (family, given) in [
        (&family[..], &given[..]),
        (&family[..25 * 3], &given[..25 * 3]),
    ] {
        let name = format!("{family}　{given}");
        let full_kana = format!("{kana}　{kana}");
        let mut n = notice(&name, &full_kana, "K7PHX3TQ", "xMqqKL%5chafk2A3");
        n.department = "第".repeat(100);
        let doc = parse(&render(&[n], true, &fonts()).unwrap());
        for page in [1, 2] {
            let text: String = page_text(&doc, page)
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            assert!(
                text.contains(&format!("{family}{given}")),
                "page {page}: {text}"
            );
            assert!(!text.contains('…'), "page {page}: {text}");
        }
        let notice_page: String = page_text(&doc, 2)
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        assert!(
            notice_page.contains(&format!("{kana}{kana}")),
            "{notice_page}"
        );
    }
}

#[test]
fn empty_batch_is_an_error() {
    assert!(matches!(
        render(&[], true, &fonts()),
        Err(PdfError::NoNotices)
    ));
}

#[test]
fn unreadable_font_files_are_errors_in_japanese() {
    let missing = std::path::Path::new("/nonexistent/font.ttf");
    let err = NoticeFonts::from_files(missing, None).unwrap_err();
    assert!(matches!(err, PdfError::FontRead { .. }));
    assert!(err.to_string().contains("読み込めません"), "{err}");
    let not_a_font = std::env::temp_dir().join("nanbyo-pdf-not-a-font.ttf");
    std::fs::write(&not_a_font, b"not a font at all").unwrap();
    let err = NoticeFonts::from_files(&not_a_font, None).unwrap_err();
    let _ = std::fs::remove_file(&not_a_font);
    assert!(matches!(err, PdfError::FontParse { .. }), "{err:?}");
}

#[test]
fn fonts_are_shareable() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<NoticeFonts>();
    send_sync::<Arc<NoticeFonts>>();
}

#[test]
fn noto_sans_cjk_has_the_glyphs_ipaex_lacks() {
    let noto = std::path::Path::new("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc");
    if !noto.exists() {
        eprintln!(
            "skipped: {} is not installed (fonts-noto-cjk)",
            noto.display()
        );
        return;
    }
    let fonts = NoticeFonts::from_files(noto, None).unwrap();
    assert_eq!(fonts.missing_glyph("𠮷田"), None);
    assert_eq!(fonts.missing_glyph("髙橋﨑齋邊濵德"), None);
    assert!(fonts.name().contains("Noto Sans CJK"), "{}", fonts.name());
    let n = notice(
        "𠮷田　美咲",
        "ヨシダ　ミサキ",
        "K7PHX3TQ",
        "xMqqKL%5chafk2A3",
    );
    let doc = parse(&render(&[n], true, &fonts).unwrap());
    assert_eq!(doc.get_pages().len(), 2);
    let text = page_text(&doc, 2);
    assert!(
        text.contains("𠮷田　美咲") && text.contains("xMqqKL%5chafk2A3"),
        "{text}"
    );
}
