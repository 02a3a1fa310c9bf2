//! Writes a sample notice and a sample batch (with its 交付管理表) to a folder, for looking at them
//! (`pdftoppm -png`) and for CI's check that they render.
//!
//! `cargo run --example sample_notices -- OUT_DIR`

use nanbyo_accounts::pdf::{render, Notice, NoticeFonts};

fn notice(name: &str, kana: &str, department: &str, login_id: &str, password: &str) -> Notice {
    Notice {
        issued_on: "2026/11/24（令和8年11月24日）".into(),
        institution_name: "東京中央病院".into(),
        institution_code: "1311234567".into(),
        municipality_name: "新宿区".into(),
        db_label: "難病DB".into(),
        user_type_label: "医療クラーク等".into(),
        department: department.into(),
        full_name: name.into(),
        kana: kana.into(),
        login_id: login_id.into(),
        password: password.into(),
        password_expires: "2026/12/08 09:00".into(),
        login_url: "https://accounts.hospital.example/login".into(),
        issuer: "東京中央病院 医事課 髙橋　美咲（責任者）".into(),
        contact: "東京中央病院 医事課（内線 1234）\n平日 9:00〜17:00".into(),
        manager: nanbyo_accounts::domain::roles::Manager::Institution,
    }
}

fn main() {
    let out = std::path::PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: sample_notices OUT_DIR"),
    );
    std::fs::create_dir_all(&out).unwrap();
    let fonts = NoticeFonts::embedded().unwrap();
    let single = vec![notice(
        "山﨑　花子",
        "ヤマザキ　ハナコ",
        "外来",
        "K7MPQ2XR",
        "xMqqKL%5chafk2A3",
    )];
    std::fs::write(
        out.join("single.pdf"),
        render(&single, false, &fonts).unwrap(),
    )
    .unwrap();
    // The longest name the fields allow (50 + 50 characters): printed whole, never cut.
    let long = vec![notice(
        &format!("{}　{}", "髙﨑邊齋".repeat(13), "長谷川".repeat(17)),
        &format!("{}　{}", "タカサキ".repeat(13), "ハセガワ".repeat(13)),
        "第一内科外来",
        "L0NGNAME",
        "xMqqKL%5chafk2A3",
    )];
    std::fs::write(
        out.join("long-name.pdf"),
        render(&long, true, &fonts).unwrap(),
    )
    .unwrap();
    let batch = vec![
        notice(
            "齋藤　一郎",
            "サイトウ　イチロウ",
            "外来",
            "H3JT9WQA",
            "Pz7#kd2MwqE4$nB8",
        ),
        notice(
            "渡邊　德子",
            "ワタナベ　トクコ",
            "病棟",
            "R4NV8XCE",
            "u9G=hT3yK%mWq2Zp",
        ),
        notice(
            "髙橋　美咲",
            "タカハシ　ミサキ",
            "病棟",
            "M2DF6YLS",
            "Ab3@xY7kLq#9mNp2",
        ),
    ];
    std::fs::write(out.join("batch.pdf"), render(&batch, true, &fonts).unwrap()).unwrap();
    // A 自治体担当者's batch over two institutions: the 交付管理表 gets a 医療機関 column. (The
    // service sorts a batch by 医療機関 and 部署; here it is given in that order.)
    let doctor = |institution: (&str, &str), department: &str, name: &str, kana: &str, id: &str| {
        let mut n = notice(name, kana, department, id, "Kq8#Tz3mWp5$Xb2N");
        n.institution_name = institution.0.into();
        n.institution_code = institution.1.into();
        n.user_type_label = "難病指定医".into();
        n.issuer = "新宿区 健康部 区担当　太郎（自治体担当者）".into();
        n.manager = nanbyo_accounts::domain::roles::Manager::Municipality;
        n
    };
    let central = ("東京中央病院", "1311234567");
    let west = (
        "医療法人社団 新宿西口メディカルクリニック附属病院",
        "1311234568",
    );
    let municipal = vec![
        doctor(
            central,
            "第2内科",
            "渡邊　德子",
            "ワタナベ　トクコ",
            "R4NV8XCF",
        ),
        doctor(
            central,
            "第10内科",
            "齋藤　一郎",
            "サイトウ　イチロウ",
            "H3JT9WQB",
        ),
        doctor(west, "小児科", "髙田　誠", "タカダ　マコト", "M2DF6YLT"),
    ];
    std::fs::write(
        out.join("municipal-batch.pdf"),
        render(&municipal, true, &fonts).unwrap(),
    )
    .unwrap();
    println!("{}", out.display());
}
