use time::macros::date;

use super::*;
use crate::domain::roles::Scope;

const INST: InstitutionRef = InstitutionRef {
    id: 100,
    municipality_id: 10,
};
const HEADER: &str = "ユーザ種別,対象DB,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,医籍登録番号,メールアドレス,電話番号,有効期限,備考";
const MUNI_HEADER: &str = "医療機関コード,ユーザ種別,部署,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,医籍登録番号";
const CLERK: &str = "医療クラーク等,,医事課,髙橋,美咲,ﾀｶﾊｼ,みさき,,,03-1234-5678,2026/3/31,";

fn responsible() -> Actor {
    Actor {
        user_id: 1,
        user_type: UserType::Responsible,
        scope: Scope::Institution {
            institution: INST,
            db: Db::Nanbyo,
        },
    }
}

fn municipal() -> Actor {
    Actor {
        user_id: 2,
        user_type: UserType::MunicipalOfficer,
        scope: Scope::Municipality {
            municipality_id: 10,
        },
    }
}

fn lookup(code: &str) -> Option<InstitutionRef> {
    match code {
        "1311234567" => Some(INST),
        "1311234568" => Some(InstitutionRef {
            id: 200,
            municipality_id: 99,
        }),
        _ => None,
    }
}

fn glyph(s: &str) -> Option<char> {
    s.chars().find(|&c| c == '𠮷')
}

fn run_as(actor: Actor, bytes: &[u8], limits: &Limits) -> Parsed {
    let municipal = matches!(actor.scope, Scope::Municipality { .. });
    let ctx = Context {
        actor,
        own_institution: (!municipal).then_some(INST),
        institution: &lookup,
        missing_glyph: &glyph,
    };
    parse(bytes, limits, &ctx)
}

fn run(text: &str) -> Parsed {
    run_as(responsible(), text.as_bytes(), &Limits::default())
}

/// (行, 列, 理由) of every problem.
fn problems(p: &Parsed) -> Vec<(usize, &str, &str)> {
    p.problems
        .iter()
        .map(|p| (p.row, p.column.as_str(), p.reason.as_str()))
        .collect()
}

fn file_error(p: &Parsed) -> &str {
    assert_eq!(p.problems.len(), 1, "{:?}", p.problems);
    assert_eq!((p.problems[0].row, p.problems[0].column.as_str()), (0, ""));
    &p.problems[0].reason
}

#[test]
fn a_cp932_file_from_excel_reads_with_its_variant_characters() {
    let text = format!("{HEADER}\r\n医療クラーク等,,医事課,髙﨑,ﾐｻｷ,ﾀｶｻｷ,ﾐｻｷ,,,,,\r\n");
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    assert!(std::str::from_utf8(&bytes).is_err());
    let p = run_as(responsible(), &bytes, &Limits::default());
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.encoding, Encoding::ShiftJis);
    assert_eq!(p.encoding.label(), "Shift_JIS");
    let row = &p.rows[0];
    assert_eq!(row.row, 2);
    assert_eq!(row.profile.family_name.as_str(), "髙﨑");
    assert_eq!(row.profile.given_name.as_str(), "ﾐｻｷ");
    assert_eq!(row.profile.family_kana.as_str(), "タカサキ");
    assert_eq!((row.user_type, row.db), (UserType::Clerk, Db::Nanbyo));
    assert_eq!(row.institution, INST);
    assert_eq!(row.institution_code, None);
}

#[test]
fn utf8_with_bom_and_crlf_and_the_hash_of_the_raw_bytes() {
    let text = format!("\u{FEFF}{HEADER}\r\n{CLERK}\r\n");
    let p = run(&text);
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.encoding, Encoding::Utf8Bom);
    assert_eq!(p.encoding.label(), "UTF-8（BOM付き）");
    assert_eq!(p.content_hash, hex::encode(Sha256::digest(text.as_bytes())));
    assert_eq!(p.content_hash.len(), 64);
    let row = &p.rows[0];
    assert_eq!(row.profile.family_kana.as_str(), "タカハシ");
    assert_eq!(row.profile.given_kana.as_str(), "ミサキ");
    assert_eq!(row.profile.phone.as_ref().unwrap().as_str(), "03-1234-5678");
    assert_eq!(row.profile.expires_on, Some(date!(2026 - 03 - 31)));
}

#[test]
fn plain_utf8_with_lf_and_trailing_blank_lines() {
    let p = run(&format!("{HEADER}\n{CLERK}\n\n,,,,,,,,,,,\n\n"));
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.encoding, Encoding::Utf8);
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn a_quoted_line_break_is_one_excel_row() {
    let text = format!(
        "{HEADER}\r\n医療クラーク等,,医事課,佐藤,一郎,サトウ,イチロウ,,,,,\"1行目\r\n2行目, コンマも\"\r\n医療クラーク等,,医事課,佐藤,,サトウ,ジロウ,,,,,\r\n"
    );
    let p = run(&text);
    assert_eq!(
        problems(&p),
        vec![(3, "氏名（名）", "氏名（名）を入力してください。")]
    );
    assert_eq!(p.rows.len(), 1);
    assert_eq!(
        p.rows[0].profile.remarks.as_ref().unwrap().as_str(),
        "1行目\n2行目, コンマも"
    );
}

#[test]
fn a_blank_line_in_the_middle_still_counts_as_an_excel_row() {
    let p = run(&format!(
        "{HEADER}\n{CLERK}\n\n医療クラーク等,,医事課,佐藤,,サトウ,ジロウ,,,,,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![(4, "氏名（名）", "氏名（名）を入力してください。")]
    );
}

#[test]
fn an_unterminated_quote_names_its_row() {
    let p = run(&format!(
        "{HEADER}\n{CLERK}\n医療クラーク等,,医事課,佐藤,一郎,サトウ,イチロウ,,,,,\"閉じない\n{CLERK}\n"
    ));
    assert_eq!(
        problems(&p),
        vec![(3, "備考", "\"（ダブルクォーテーション）が閉じられていません。この行からファイルの最後までが1つのセルとして読み込まれました。")]
    );
    assert_eq!(p.rows.len(), 1);
}

#[test]
fn a_row_with_another_number_of_cells_is_named() {
    let p = run(&format!(
        "{HEADER}\n{CLERK}\n{CLERK},余分\n医療クラーク等,医事課\n"
    ));
    assert_eq!(
        problems(&p),
        vec![
            (3, "", "列の数が見出し行と合いません（見出し行 12列、この行 13列）。セルの中のコンマは\"\"で囲んでください。"),
            (4, "", "列の数が見出し行と合いません（見出し行 12列、この行 2列）。セルの中のコンマは\"\"で囲んでください。"),
        ]
    );
}

#[test]
fn files_that_are_not_csv_text_are_refused() {
    let limits = Limits::default();
    let err = |bytes: &[u8]| {
        run_as(responsible(), bytes, &limits).problems[0]
            .reason
            .clone()
    };
    let unknown = "文字コードを判別できません。UTF-8またはShift_JIS（Excelの「CSV（コンマ区切り）」）で保存してください。";
    assert_eq!(err(b"\x82\xa0\xff\xfe,abc\n"), unknown);
    assert_eq!(err(b"\xEF\xBB\xBF\xff\xfe"), unknown);
    let not_csv = "CSVファイルではありません（画像や文書など、文字以外のデータが含まれています）。Excelの「CSV（コンマ区切り）」で保存したファイルを選んでください。";
    assert_eq!(err(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), not_csv);
    assert_eq!(err("ユーザ種別\0,部署\n".as_bytes()), not_csv);
    assert!(err(b"PK\x03\x04\x14\x00").starts_with("Excelのブック形式のファイルは取り込めません。"));
    for bytes in [&b"\x89PNG\r\n\x1a\n"[..], b"\x82\xa0\xff\xfe"] {
        let p = run_as(responsible(), bytes, &limits);
        assert_eq!(p.problems.len(), 1);
        assert_eq!(p.problems[0].row, 0);
        assert!(p.rows.is_empty());
    }
}

#[test]
fn empty_and_header_only_files_are_refused() {
    let empty = "ファイルが空です。見出し行と登録するデータの行を入力してください。";
    assert_eq!(file_error(&run("")), empty);
    assert_eq!(file_error(&run("\r\n\r\n")), empty);
    assert_eq!(
        file_error(&run_as(responsible(), b"\xEF\xBB\xBF", &Limits::default())),
        empty
    );
    let header_only = "登録するデータの行がありません（見出し行だけのファイルです）。";
    assert_eq!(file_error(&run(&format!("{HEADER}\r\n"))), header_only);
    assert_eq!(
        file_error(&run(&format!("{HEADER}\r\n,,,,,,,,,,,\r\n"))),
        header_only
    );
}

#[test]
fn unknown_missing_and_doubled_columns_are_named() {
    let p = run("ユーザ種別,所属,氏名(姓),氏名（名）,フリガナ（セイ）,部署,部署\n医療クラーク等,a,b,c,d,e,f\n");
    assert_eq!(
        problems(&p),
        vec![
            (1, "所属", "「所属」は使えない列名です。列名の一覧（ユーザ種別、部署、氏名（姓） など）と同じ名前にしてください。"),
            (1, "部署", "「部署」の列が2つあります。1つにしてください。"),
            (1, "フリガナ（メイ）", "必須の列「フリガナ（メイ）」がありません。"),
        ]
    );
    assert!(p.rows.is_empty());
}

#[test]
fn columns_in_another_order_with_half_width_parentheses_and_only_the_required_ones() {
    let p = run("ﾌﾘｶﾞﾅ(ﾒｲ),フリガナ(セイ),氏名(名),氏名(姓), 部署 ,ユーザー種別\nミサキ,タカハシ,美咲,髙橋,医事課,責任者\n");
    assert_eq!(problems(&p), vec![]);
    let row = &p.rows[0];
    assert_eq!(row.user_type, UserType::Responsible);
    assert_eq!(row.db, Db::Nanbyo);
    assert_eq!(row.profile.full_name(), "髙橋\u{3000}美咲");
    assert_eq!(row.profile.department.as_str(), "医事課");
}

#[test]
fn a_type_the_actor_may_not_register_gets_the_role_rules_message() {
    let p = run(&format!(
        "{HEADER}\n難病指定医,,内科,山田,太郎,ヤマダ,タロウ,12345,,,,\n自治体担当者,,保健課,山田,花子,ヤマダ,ハナコ,,,,,\n医師,,内科,山田,次郎,ヤマダ,ジロウ,,,,,\n,,内科,山田,三郎,ヤマダ,サブロウ,,,,,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![
            (2, "ユーザ種別", "このユーザ種別のユーザを登録・管理する権限がありません。"),
            (3, "ユーザ種別", "このユーザ種別のユーザを登録・管理する権限がありません。"),
            (4, "ユーザ種別", "ユーザ種別「医師」は正しくありません。責任者・難病指定医・協力難病指定医・小児慢性特定疾病指定医・医療クラーク等 のいずれかを入力してください。"),
            (5, "ユーザ種別", "ユーザ種別を入力してください。"),
        ]
    );
    assert!(p.rows.is_empty());
}

#[test]
fn another_db_is_refused_and_an_unknown_db_named() {
    let p = run(&format!(
        "{HEADER}\n医療クラーク等,小慢DB,医事課,佐藤,一郎,サトウ,イチロウ,,,,,\n医療クラーク等,がんDB,医事課,佐藤,二郎,サトウ,ジロウ,,,,,\n医療クラーク等,難病DB,医事課,佐藤,三郎,サトウ,サブロウ,,,,,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![
            (2, "対象DB", "他の対象DBのユーザは登録・管理できません。"),
            (3, "対象DB", "対象DB「がんDB」は正しくありません。難病DB または 小慢DB を入力してください（空欄ならユーザ種別から決まります）。"),
        ]
    );
    assert_eq!(p.rows.len(), 1);
    assert_eq!(p.rows[0].row, 4);
}

#[test]
fn formula_cells_are_refused_once_per_cell() {
    let p = run(&format!(
        "{HEADER}\n医療クラーク等,,=HYPERLINK(\"x\"),佐藤,一郎,サトウ,イチロウ,,@evil,+81312345678,,-メモ\n"
    ));
    let formula =
        "数式とみなされる文字で始まるセルは取り込めません。先頭の = + - @ などを削除してください。";
    assert_eq!(
        problems(&p),
        vec![
            (2, "部署", formula),
            (2, "メールアドレス", formula),
            (2, "電話番号", formula),
            (2, "備考", formula),
        ]
    );
}

#[test]
fn duplicates_inside_the_file_name_the_first_row() {
    let p = run_as(
        municipal(),
        format!(
            "{MUNI_HEADER}\n1311234567,難病指定医,内科,山田,太郎,ヤマダ,タロウ,12345\n1311234567,難病指定医,内科,高田,花子,タカダ,ハナコ,012345\n1311234567,小児慢性特定疾病指定医,小児科,高田,花子,タカダ,ハナコ,12345\n1311234567,難病指定医,内科,山田,太郎,ﾔﾏﾀﾞ,たろう,99999\n"
        )
        .as_bytes(),
        &Limits::default(),
    );
    assert_eq!(
        problems(&p),
        vec![
            (3, "医籍登録番号", "医籍登録番号 12345 が2行目と重複しています。同じ対象DBに同じ医籍登録番号の指定医は1人だけ登録できます。"),
            (5, "", "2行目と同じ人です（ユーザ種別・対象DB・氏名・フリガナ・部署が同じ）。どちらかの行を削除してください。"),
        ]
    );
    let rows: Vec<_> = p.rows.iter().map(|r| (r.row, r.db)).collect();
    assert_eq!(rows, vec![(2, Db::Nanbyo), (4, Db::Shoman)]);
}

#[test]
fn dates_in_excel_and_wareki_forms() {
    let p = run(&format!(
        "{HEADER}\n医療クラーク等,,医事課,佐藤,一郎,サトウ,イチロウ,,,,2026/3/31,\n医療クラーク等,,医事課,佐藤,二郎,サトウ,ジロウ,,,,令和8年3月31日,\n医療クラーク等,,医事課,佐藤,三郎,サトウ,サブロウ,,,,2026-03-31,\n医療クラーク等,,医事課,佐藤,四郎,サトウ,シロウ,,,,2026/2/30,\n医療クラーク等,,医事課,佐藤,五郎,サトウ,ゴロウ,,,,来年,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![
            (
                5,
                "有効期限",
                "有効期限が正しくありません。存在しない日付です。"
            ),
            (
                6,
                "有効期限",
                "有効期限は西暦の日付（例: 2026/3/31）で入力してください。"
            ),
        ]
    );
    assert!(p
        .rows
        .iter()
        .all(|r| r.profile.expires_on == Some(date!(2026 - 03 - 31))));
    assert_eq!(p.rows.len(), 3);
}

#[test]
fn field_errors_a_dropped_leading_zero_and_unprintable_characters() {
    let p = run(&format!(
        "{HEADER}\n医療クラーク等,,医事課,𠮷田,一郎,ヨシダ,Ichiro,,taro@,312345678,,\n医療クラーク等,,医事課,佐藤,一郎,サトウ,イチロウ,12345,,,,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![
            (2, "フリガナ（メイ）", "フリガナ（メイ）は全角カタカナで入力してください。"),
            (2, "メールアドレス", "メールアドレスは半角英数字の正しい形式（例: taro@example.jp）で入力してください。"),
            (2, "電話番号", "電話番号が正しくありません。先頭の0がありません（Excelで保存すると先頭の0が消えることがあります）。"),
            (3, "医籍登録番号", "指定医以外のユーザには医籍登録番号は登録されません（この値は取り込まれません）。"),
        ]
    );
    assert_eq!(p.problems[3].severity, Severity::Warning);
    assert!(p.has_warnings());
    assert_eq!(p.rows.len(), 1);

    let p = run(&format!(
        "{HEADER}\n医療クラーク等,,医事課,𠮷田,一郎,ヨシダ,イチロウ,,,,,\n"
    ));
    assert_eq!(
        problems(&p),
        vec![(2, "氏名（姓）", "氏名（姓）の「𠮷」(U+20BB7) は通知書に印字できない文字です。別の字体で入力してください。")]
    );
}

#[test]
fn more_rows_than_the_limit_are_refused_not_truncated() {
    let mut text = format!("{HEADER}\r\n");
    for _ in 0..10_001 {
        text.push_str(CLERK);
        text.push_str("\r\n");
    }
    let p = run(&text);
    assert_eq!(
        file_error(&p),
        "データの行数が上限（10,000行）を超えています。ファイルを分割して取り込んでください。"
    );
    assert!(p.rows.is_empty());
}

#[test]
fn exactly_the_row_limit_is_read() {
    let mut text = format!("{HEADER}\n");
    for i in 0..3 {
        text.push_str(&format!(
            "医療クラーク等,,医事課,佐藤,{i},サトウ,イチロウ,,,,,\n"
        ));
    }
    let p = run_as(
        responsible(),
        text.as_bytes(),
        &Limits {
            max_rows: 3,
            ..Limits::default()
        },
    );
    assert_eq!(problems(&p), vec![]);
    assert_eq!(p.rows.len(), 3);
}

#[test]
fn a_file_over_the_size_limit_is_refused_unread() {
    let p = run_as(
        responsible(),
        &vec![b'a'; 5 * 1024 * 1024 + 1],
        &Limits::default(),
    );
    assert_eq!(
        file_error(&p),
        "ファイルが大きすぎます（上限 5MB）。ファイルを分割して取り込んでください。"
    );
    assert_eq!(p.content_hash, "");
}

#[test]
fn a_municipal_officers_file_carries_the_institution_code() {
    let p = run_as(
        municipal(),
        format!(
            "{MUNI_HEADER}\n1311234567,協力難病指定医,内科,山田,太郎,ヤマダ,タロウ,12345\n1311234567,小児慢性特定疾病指定医,小児科,山田,花子,ヤマダ,ハナコ,23456\n1319999999,難病指定医,内科,佐藤,一郎,サトウ,イチロウ,34567\n1311234568,難病指定医,内科,佐藤,二郎,サトウ,ジロウ,45678\n131123456,難病指定医,内科,佐藤,三郎,サトウ,サブロウ,56789\n1311234567,医療クラーク等,医事課,佐藤,四郎,サトウ,シロウ,\n1311234567,難病指定医,内科,佐藤,五郎,サトウ,ゴロウ,\n"
        )
        .as_bytes(),
        &Limits::default(),
    );
    assert_eq!(
        problems(&p),
        vec![
            (4, "医療機関コード", "医療機関コード 1319999999 の医療機関は登録されていません。コードを確認してください。"),
            (5, "医療機関コード", "管轄外の医療機関のユーザは登録・管理できません。"),
            (6, "医療機関コード", "医療機関コードは半角数字10桁で入力してください。"),
            (7, "ユーザ種別", "このユーザ種別のユーザを登録・管理する権限がありません。"),
            (8, "医籍登録番号", "医籍登録番号を入力してください。"),
        ]
    );
    let rows: Vec<_> = p
        .rows
        .iter()
        .map(|r| {
            (
                r.row,
                r.user_type,
                r.db,
                r.institution_code.as_ref().map(|c| c.as_str()),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (
                2,
                UserType::CooperatingDoctor,
                Db::Nanbyo,
                Some("1311234567")
            ),
            (3, UserType::ShomanDoctor, Db::Shoman, Some("1311234567")),
        ]
    );
    assert_eq!(
        p.rows[0].profile.medical_reg_no.as_ref().unwrap().as_str(),
        "12345"
    );
}

#[test]
fn a_municipal_officers_file_without_the_code_column_is_refused() {
    let p = run_as(
        municipal(),
        format!("{HEADER}\n難病指定医,,内科,山田,太郎,ヤマダ,タロウ,12345,,,,\n").as_bytes(),
        &Limits::default(),
    );
    assert_eq!(
        problems(&p),
        vec![(1, "医療機関コード", "必須の列「医療機関コード」がありません。自治体担当者のファイルには、登録先の医療機関コードの列が必要です。")]
    );
}

#[test]
fn an_institution_actors_file_with_a_code_column_is_refused() {
    let p = run(&format!("医療機関コード,{HEADER}\n1311234567,{CLERK}\n"));
    assert_eq!(
        problems(&p),
        vec![(1, "医療機関コード", "医療機関コードの列は自治体担当者のファイルにだけ使います。このファイルの行はすべてご自身の医療機関に登録されるため、この列を削除してください。")]
    );
}

#[test]
fn a_doctor_registers_clerks_into_its_own_db() {
    let actor = Actor {
        user_id: 3,
        user_type: UserType::ShomanDoctor,
        // Whatever the account row says, a 小慢 doctor's DB is 小慢DB.
        scope: Scope::Institution {
            institution: INST,
            db: Db::Nanbyo,
        },
    };
    let p = run_as(
        actor,
        format!("{HEADER}\n{CLERK}\n責任者,,医事課,佐藤,一郎,サトウ,イチロウ,,,,,\n").as_bytes(),
        &Limits::default(),
    );
    assert_eq!(
        problems(&p),
        vec![(
            3,
            "ユーザ種別",
            "このユーザ種別のユーザを登録・管理する権限がありません。"
        )]
    );
    assert_eq!(p.rows[0].db, Db::Shoman);
}

#[test]
fn group_digits_and_labels() {
    assert_eq!(group_digits(10_000), "10,000");
    assert_eq!(group_digits(999), "999");
    assert_eq!(group_digits(1_234_567), "1,234,567");
    assert_eq!(Encoding::Utf8.label(), "UTF-8");
    assert_eq!(Column::from_header("氏名(姓)"), Some(Column::FamilyName));
    assert_eq!(Column::from_header("ﾌﾘｶﾞﾅ（ｾｲ）"), Some(Column::FamilyKana));
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut seed = 0x1234_5678_u32;
    for len in 0..300 {
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b",\"\n\r=\xe3\x82\xa2\x82\xa0ab"[(seed >> 16) as usize % 12]
            })
            .collect();
        let _ = run_as(responsible(), &bytes, &Limits::default());
        let _ = run_as(municipal(), &bytes, &Limits::default());
    }
}
