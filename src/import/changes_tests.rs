use super::*;
use crate::import::Severity;

const HEADER: &str = "ログインID,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,ユーザ種別,対象DB,医療機関コード,医療機関名,部署,医籍登録番号,メールアドレス,電話番号,有効期限,状態,登録日,最終ログイン,備考,更新番号,削除";

fn file(rows: &[&str]) -> Vec<u8> {
    let mut s = String::from("\u{FEFF}");
    s.push_str(HEADER);
    for r in rows {
        s.push_str("\r\n");
        s.push_str(r);
    }
    s.push_str("\r\n");
    s.into_bytes()
}

fn clerk() -> Current {
    Current {
        raw: RawProfile {
            department: "第2病棟".into(),
            family_name: "髙橋".into(),
            given_name: "美咲".into(),
            family_kana: "タカハシ".into(),
            given_kana: "ミサキ".into(),
            phone: "0312345678".into(),
            expires_on: "2027/03/31".into(),
            ..Default::default()
        },
        doctor: false,
        fixed: vec![
            (ChangeColumn::UserType, "医療クラーク等".into()),
            (ChangeColumn::Db, "難病DB".into()),
            (ChangeColumn::InstitutionCode, "0112345678".into()),
            (ChangeColumn::InstitutionName, "札幌中央病院".into()),
            (ChangeColumn::CreatedOn, "2026/04/01".into()),
        ],
    }
}

/// The clerk's row as the export writes it, with `edit` applied to its cells.
fn row(edit: &[(usize, &str)]) -> String {
    let mut cells: Vec<String> = [
        "K7MPQ2XR",
        "髙橋",
        "美咲",
        "タカハシ",
        "ミサキ",
        "医療クラーク等",
        "難病DB",
        "0112345678",
        "札幌中央病院",
        "第2病棟",
        "",
        "",
        "0312345678",
        "2027/03/31",
        "有効",
        "2026/04/01",
        "未ログイン",
        "",
        "3",
        "",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for (i, v) in edit {
        cells[*i] = v.to_string();
    }
    cells.join(",")
}

fn one(edit: &[(usize, &str)]) -> (Option<Diff>, Vec<Problem>) {
    let f = parse(&file(&[&row(edit)]), &Limits::default());
    assert!(!f.has_errors(), "{:?}", f.problems);
    let mut problems = Vec::new();
    let d = diff(&f.rows[0], &clerk(), false, &mut problems);
    (d, problems)
}

#[test]
fn a_change_file_is_told_by_its_login_id_column() {
    assert!(is_change_file(&file(&[&row(&[])]), &Limits::default()));
    let sjis = encoding_rs::SHIFT_JIS
        .encode(&HEADER.replace("ログインID", "ﾛｸﾞｲﾝID"))
        .0
        .into_owned();
    assert!(is_change_file(&sjis, &Limits::default()));
    assert!(!is_change_file(
        include_bytes!("../../import/template.csv"),
        &Limits::default()
    ));
    assert!(!is_change_file(b"", &Limits::default()));
}

#[test]
fn an_untouched_row_is_unchanged_whatever_excel_did_to_it() {
    assert_eq!(one(&[]).0, Some(Diff::Unchanged));
    // Excel drops the leading zeros of numbers and rewrites dates in its own format.
    let (d, problems) = one(&[
        (7, "112345678"),
        (12, "312345678"),
        (13, "2027/3/31"),
        (15, "2026/4/1"),
    ]);
    assert_eq!(d, Some(Diff::Unchanged));
    assert!(problems.is_empty(), "{problems:?}");
    // 状態 and 最終ログイン change by themselves: never read.
    assert_eq!(
        one(&[(14, "ロック中"), (16, "2026/11/30 09:00")]).0,
        Some(Diff::Unchanged)
    );
}

#[test]
fn an_edited_department_is_a_change_with_before_and_after() {
    let (d, problems) = one(&[(9, "第10病棟")]);
    assert!(problems.is_empty());
    let Some(Diff::Change { changes, profile }) = d else {
        panic!("{d:?}")
    };
    assert_eq!(profile.department.as_str(), "第10病棟");
    assert_eq!(
        changes,
        vec![FieldChange {
            column: ChangeColumn::Department,
            before: "第2病棟".into(),
            after: "第10病棟".into()
        }]
    );
}

#[test]
fn the_exports_own_apostrophe_comes_off_and_a_typed_formula_is_refused() {
    let (d, _) = one(&[(17, "'=SUM(A1)")]);
    let Some(Diff::Change { changes, .. }) = d else {
        panic!("{d:?}")
    };
    assert_eq!(changes[0].after, "=SUM(A1)");
    let f = parse(
        &file(&[&row(&[(9, "=HYPERLINK(\"http://x\")")])]),
        &Limits::default(),
    );
    assert_eq!(f.problems.len(), 1);
    assert_eq!(f.problems[0].row, 2);
    assert_eq!(f.problems[0].column, "部署");
    assert_eq!(f.problems[0].reason, FORMULA);
    assert!(f.rows.is_empty());
}

#[test]
fn fixed_columns_are_reported_not_applied() {
    let (d, problems) = one(&[(5, "責任者"), (9, "医事課")]);
    assert!(matches!(d, Some(Diff::Change { .. })));
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].severity, Severity::Warning);
    assert_eq!(problems[0].column, "ユーザ種別");
    assert_eq!(
        problems[0].reason,
        "「ユーザ種別」は変更できない列です（医療クラーク等 → 責任者）。この変更は反映されません。"
    );
}

#[test]
fn bad_values_are_errors_with_their_column() {
    let (d, problems) = one(&[(3, "Takahashi"), (13, "来年")]);
    assert_eq!(d, None);
    let columns: Vec<&str> = problems.iter().map(|p| p.column.as_str()).collect();
    assert_eq!(columns, ["フリガナ（セイ）", "有効期限"]);
    assert!(problems.iter().all(Problem::is_error));
}

#[test]
fn deletion_marks_and_broken_rows() {
    assert_eq!(one(&[(19, "削除")]).0, Some(Diff::Delete));
    assert_eq!(one(&[(19, "○")]).0, Some(Diff::Delete));
    let f = parse(
        &file(&[
            &row(&[(19, "たぶん")]),
            &row(&[(0, "")]),
            &row(&[]),
            &row(&[]),
        ]),
        &Limits::default(),
    );
    let got: Vec<(usize, &str)> = f
        .problems
        .iter()
        .map(|p| (p.row, p.column.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (2, "削除"),
            (3, "ログインID"),
            (4, "ログインID"),
            (5, "ログインID")
        ]
    );
    assert_eq!(
        f.problems[3].reason,
        "ログインID K7MPQ2XR が2行目と重複しています。1人につき1行にしてください。"
    );
    assert!(f.rows.is_empty());
}

#[test]
fn the_header_must_be_the_exports() {
    let bytes = "ログインID,部署,所属長\r\nK7MPQ2XR,医事課,山田\r\n".as_bytes();
    let f = parse(bytes, &Limits::default());
    let reasons: Vec<&str> = f.problems.iter().map(|p| p.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "「所属長」は変更ファイルで使えない列名です。検索画面の「CSV出力」で出力したファイルの列名のままにしてください。",
            "必須の列「更新番号」がありません。検索画面の「CSV出力」で出力したファイルを編集してください。"
        ]
    );
    let f = parse(format!("{HEADER}\r\n").as_bytes(), &Limits::default());
    assert_eq!(
        f.problems[0].reason,
        "変更するデータの行がありません（見出し行だけのファイルです）。"
    );
}

#[test]
fn a_clerks_file_cannot_give_a_registration_number() {
    let (d, problems) = one(&[(10, "123456")]);
    assert_eq!(d, Some(Diff::Unchanged));
    assert_eq!(problems[0].severity, Severity::Warning);
    assert_eq!(problems[0].column, "医籍登録番号");
}

#[test]
fn cp932_round_trip_keeps_the_rare_kanji() {
    let text = format!("{HEADER}\r\n{}\r\n", row(&[(1, "﨑山"), (9, "齋藤記念棟")]));
    let (bytes, _, unmappable) = encoding_rs::SHIFT_JIS.encode(&text);
    assert!(!unmappable);
    let f = parse(&bytes, &Limits::default());
    assert_eq!(f.encoding, Encoding::ShiftJis);
    let mut problems = Vec::new();
    let Some(Diff::Change { profile, .. }) = diff(&f.rows[0], &clerk(), false, &mut problems)
    else {
        panic!("{problems:?}")
    };
    assert_eq!(profile.family_name.as_str(), "﨑山");
    assert_eq!(profile.department.as_str(), "齋藤記念棟");
}
