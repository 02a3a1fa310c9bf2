//! 人事異動 by Excel round trip (issue 12): the search's CSV export, edited the way Excel saves it, uploaded
//! on /imports; the preview lists per account only what changes (before → after) and every problem as
//! 行 / 列 / 理由; the confirmation applies the whole file or nothing. On SQLite and PostgreSQL.

mod common;
#[path = "common/people.rs"]
mod people;
#[path = "common/upload.rs"]
mod upload;

use common::*;
use nanbyo_accounts::domain::account::RawProfile;
use nanbyo_accounts::domain::roles::Permit;
use nanbyo_accounts::service::users::Registration;
use nanbyo_accounts::store::users::UserRecord;
use people::*;
use rocket::http::Status;
use upload::*;

/// The export as a table: the header and the rows, each a vector of cells.
struct Export {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Export {
    async fn of(s: &TestServer) -> Export {
        let res = s.get("/users/export.csv").await;
        assert_eq!(res.status(), Status::Ok);
        let bytes = res.into_bytes().await.unwrap();
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap()).unwrap();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let mut records = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect::<Vec<_>>());
        let header = records.next().unwrap();
        Export {
            header,
            rows: records.collect(),
        }
    }

    fn col(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"))
    }

    /// Sets a cell of the row of `login_id`.
    fn set(&mut self, login_id: &str, column: &str, value: &str) -> &mut Self {
        let c = self.col(column);
        let row = self
            .rows
            .iter_mut()
            .find(|r| r[0] == login_id)
            .unwrap_or_else(|| panic!("{login_id} is not in the export"));
        row[c] = value.to_string();
        self
    }

    fn get(&self, login_id: &str, column: &str) -> String {
        let c = self.col(column);
        self.rows.iter().find(|r| r[0] == login_id).unwrap()[c].clone()
    }

    /// The Excel row number of `login_id` (the header is row 1).
    fn row_of(&self, login_id: &str) -> usize {
        self.rows.iter().position(|r| r[0] == login_id).unwrap() + 2
    }

    /// The file as Excel writes it back: every cell as shown, quoted only when needed, CRLF.
    fn text(&self) -> String {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .from_writer(Vec::new());
        w.write_record(&self.header).unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    fn utf8_bom(&self) -> Vec<u8> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        out.extend_from_slice(self.text().as_bytes());
        out
    }
}

async fn clerk_with(
    s: &TestServer,
    actor: &UserRecord,
    family: &str,
    raw: RawProfile,
) -> UserRecord {
    let reg = Registration {
        user_type: "clerk".into(),
        db: String::new(),
        institution_code: String::new(),
        profile: RawProfile {
            family_name: family.into(),
            ..raw
        },
    };
    s.app().register(actor, &reg, None).await.unwrap()
}

async fn confirm(s: &TestServer, preview: &str, accept_warnings: bool) -> (Status, String) {
    let id = staging_id(preview).expect("the preview offers the confirmation");
    let mut fields = vec![("csrf", csrf_of(preview)), ("staging_id", id)];
    if accept_warnings {
        fields.push(("accept_warnings", "true".into()));
    }
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let res = s.post_form("/imports/changes/confirm", &fields).await;
    (res.status(), res.into_string().await.unwrap_or_default())
}

/// Every account's (login ID, 部署, 更新番号, deleted), to show that a refused file changed nothing.
async fn snapshot(s: &TestServer) -> Vec<(String, String, i64, bool)> {
    use sqlx::Row;
    sqlx::query("SELECT login_id, department, profile_version, deleted_at FROM users ORDER BY id")
        .fetch_all(s.app().store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.get::<String, _>(0),
                r.get::<String, _>(1),
                r.get::<i64, _>(2),
                r.get::<Option<i64>, _>(3).is_some(),
            )
        })
        .collect()
}

#[rocket::async_test]
async fn an_exported_file_edited_in_excel_moves_two_and_deletes_one() {
    let s = server().await;
    let c = cast(&s).await;
    let leaving = clerk_with(&s, &c.responsible, "齋藤", profile("", "サイトウ", "外来")).await;
    let untouched = clerk_with(
        &s,
        &c.responsible,
        "髙橋",
        RawProfile {
            phone: "0312345678".into(),
            expires_on: "2027-03-31".into(),
            ..profile("", "タカハシ", "病棟")
        },
    )
    .await;
    s.act_as(&c.responsible).await;
    let mut file = Export::of(&s).await;
    assert_eq!(
        file.header.join(","),
        "ログインID,氏名（姓）,氏名（名）,フリガナ（セイ）,フリガナ（メイ）,ユーザ種別,対象DB,医療機関コード,医療機関名,部署,医籍登録番号,メールアドレス,電話番号,有効期限,状態,登録日,最終ログイン,備考,更新番号,削除"
    );
    assert_eq!(file.get(&untouched.login_id, "最終ログイン"), "未ログイン");
    assert_eq!(file.get(&untouched.login_id, "更新番号"), "1");
    // Two moves and one leaver; Excel drops the phone's leading zero and rewrites the date of a row
    // nobody touched, and the file goes back in Shift_JIS.
    file.set(&c.clerk.login_id, "部署", "第10病棟")
        .set(&c.other_clerk.login_id, "部署", "第2病棟")
        .set(&leaving.login_id, "削除", "削除")
        .set(&untouched.login_id, "電話番号", "312345678")
        .set(&untouched.login_id, "有効期限", "2027/3/31");
    let before = snapshot(&s).await;
    let (status, html) = upload(&s, "4月異動.csv", &sjis(&file.text())).await;
    assert_eq!(status, Status::Ok);
    assert!(
        html.contains("CSV一括変更（確認）") && html.contains("Shift_JIS"),
        "{html}"
    );
    assert!(
        html.contains("変更するユーザ（変更 2件・削除 1件）"),
        "{html}"
    );
    assert!(
        html.contains("部署：医事課 → <strong>第10病棟</strong>"),
        "{html}"
    );
    assert!(
        html.contains("部署：外来 → <strong>第2病棟</strong>"),
        "{html}"
    );
    assert!(
        html.contains("齋藤　花子") && html.contains(">削除</span>"),
        "{html}"
    );
    assert!(
        !html.contains("髙橋　花子"),
        "an untouched row is not listed: {html}"
    );
    assert!(!html.contains("エラー</span>"), "{html}");
    assert_eq!(snapshot(&s).await, before, "the preview changes nothing");

    let (status, done) = confirm(&s, &html, false).await;
    assert_eq!(status, Status::Ok);
    assert!(done.contains("変更 2件・削除 1件"), "{done}");
    assert_eq!(s.reload(&c.clerk).await.department, "第10病棟");
    assert_eq!(s.reload(&c.clerk).await.profile_version, 2);
    assert_eq!(s.reload(&c.other_clerk).await.department, "第2病棟");
    assert!(s.reload(&leaving).await.deleted_at.is_some());
    let kept = s.reload(&untouched).await;
    assert_eq!(
        (kept.phone.as_deref(), kept.profile_version),
        (Some("0312345678"), 1)
    );
    // One audit entry per account, naming the file and the row, and the import's own.
    let entries = s.audit().await;
    let of = |u: &UserRecord| {
        entries
            .iter()
            .filter(|e| e.content.target_user_id == Some(u.id))
            .filter(|e| {
                e.content
                    .details
                    .starts_with("人事異動の変更ファイル（4月異動.csv")
            })
            .map(|e| (e.content.action.clone(), e.content.details.clone()))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of(&c.clerk),
        [(
            "edit".to_string(),
            format!(
                "人事異動の変更ファイル（4月異動.csv {}行目）: 部署 医事課 → 第10病棟",
                file.row_of(&c.clerk.login_id)
            )
        )]
    );
    assert_eq!(of(&leaving)[0].0, "delete");
    assert!(entries.iter().any(|e| e.content.action == "import_commit"
        && e.content
            .details
            .contains("人事異動の変更ファイル 4月異動.csv（web）で2件を変更、1件を削除")));
    // The search shows the new 部署; the history lists the change file.
    let search = s.html("/users?department=%E7%AC%AC10").await;
    assert!(
        search.contains("山﨑") && search.contains("第10病棟"),
        "{search}"
    );
    let history = s.html("/imports").await;
    assert!(
        history.contains("一括変更") && history.contains("反映済"),
        "{history}"
    );
    // The same file again: refused.
    let (_, again) = upload(&s, "4月異動.csv", &sjis(&file.text())).await;
    assert!(again.contains("取り込み済みです"), "{again}");
    assert!(staging_id(&again).is_none());
}

#[rocket::async_test]
async fn every_problem_is_reported_with_its_row_and_nothing_changes() {
    let s = server().await;
    let c = cast(&s).await;
    let gone = clerk_with(
        &s,
        &c.responsible,
        "退職",
        profile("", "タイショク", "外来"),
    )
    .await;
    s.act_as(&c.responsible).await;
    let mut file = Export::of(&s).await;
    // Changed in the screen after the export, by the same 責任者.
    let permit = Permit::check(
        &c.responsible.actor(),
        c.clerk.id,
        &c.clerk.target().unwrap(),
    )
    .unwrap();
    let me = s.reload(&c.responsible).await;
    s.app()
        .edit(
            &me,
            &permit,
            &c.clerk,
            &RawProfile {
                remarks: "画面で変更".into(),
                ..profile("山﨑", "ヤマザキ", "医事課")
            },
            None,
        )
        .await
        .unwrap();
    let gone_permit = Permit::check(&me.actor(), gone.id, &gone.target().unwrap()).unwrap();
    s.app().delete(&me, &gone_permit, None).await.unwrap();
    file.set(&c.clerk.login_id, "部署", "外来")
        .set(&gone.login_id, "部署", "病棟")
        .set(&c.responsible.login_id, "部署", "総務課")
        .set(&c.nanbyo_doctor.login_id, "部署", "外科")
        .set(&c.other_clerk.login_id, "フリガナ（セイ）", "Sato")
        .set(
            &c.other_clerk.login_id,
            "備考",
            "=HYPERLINK(\"http://example.com\")",
        );
    let mut bytes = file.utf8_bom();
    bytes.extend_from_slice("ZZZZ9999,,,,,,,,,病棟,,,,,,,,,1,\r\n".as_bytes());
    let before = snapshot(&s).await;
    let (status, html) = upload(&s, "異動.csv", &bytes).await;
    assert_eq!(status, Status::Ok);
    assert!(html.contains("UTF-8（BOM付き）"));
    let row = |u: &UserRecord| file.row_of(&u.login_id);
    let expect = [
        (
            row(&c.clerk),
            "更新番号",
            format!(
                "このアカウントはCSV出力の後に変更されています（{}、{} 責任　花子）。最新の検索結果をCSV出力し直し、その内容で変更してください。",
                nanbyo_accounts::domain::time::format_jst(s.reload(&c.clerk).await.profile_changed_at.unwrap()),
                c.responsible.login_id
            ),
        ),
        (
            row(&gone),
            "ログインID",
            format!(
                "このアカウントは{}に削除されています。削除済のアカウントは変更できません。",
                nanbyo_accounts::domain::time::format_jst(s.reload(&gone).await.deleted_at.unwrap())
            ),
        ),
        (row(&c.responsible), "", "ご自身のアカウントはこの操作の対象にできません。".to_string()),
        (row(&c.nanbyo_doctor), "", "このユーザ種別のユーザを登録・管理する権限がありません。".to_string()),
        (
            row(&c.other_clerk),
            "備考",
            "数式とみなされる文字で始まるセルは取り込めません。先頭の = + - @ などを削除してください。".to_string(),
        ),
        (
            file.rows.len() + 2,
            "ログインID",
            "ログインID ZZZZ9999 のアカウントが見つかりません。検索画面から出力したファイルのログインIDのままにしてください。".to_string(),
        ),
    ];
    for (r, column, reason) in &expect {
        let cell = format!("<tr><td>{r}</td><td>{column}</td><td><span class=\"state state-locked\">エラー</span></td><td>{}</td></tr>", reason.replace('"', "&quot;").replace('/', "&#x2F;"));
        assert!(html.contains(&cell), "missing {cell}\nin {html}");
    }
    assert!(staging_id(&html).is_none(), "no confirmation with errors");
    assert_eq!(snapshot(&s).await, before, "nothing changed");
    // The other clerk's bad フリガナ alone, once the formula is gone.
    file.set(&c.other_clerk.login_id, "備考", "");
    let (_, html) = upload(&s, "異動2.csv", &file.utf8_bom()).await;
    assert!(
        html.contains("<td>フリガナ（セイ）</td><td><span class=\"state state-locked\">エラー</span></td><td>フリガナ（セイ）"),
        "{html}"
    );
}

#[rocket::async_test]
async fn a_fixed_column_edited_is_a_warning_and_is_not_applied() {
    let s = server().await;
    let c = cast(&s).await;
    s.act_as(&c.responsible).await;
    let mut file = Export::of(&s).await;
    file.set(&c.clerk.login_id, "ユーザ種別", "責任者")
        .set(&c.clerk.login_id, "部署", "病棟");
    let (_, html) = upload(&s, "異動.csv", &sjis(&file.text())).await;
    assert!(
        html.contains("「ユーザ種別」は変更できない列です（医療クラーク等 → 責任者）。この変更は反映されません。"),
        "{html}"
    );
    // Not confirmed: nothing applied, the preview again.
    let (_, again) = confirm(&s, &html, false).await;
    assert!(again.contains("警告を確認しました"), "{again}");
    assert_eq!(s.reload(&c.clerk).await.department, "医事課");
    let (_, done) = confirm(&s, &again, true).await;
    assert!(done.contains("変更 1件・削除 0件"), "{done}");
    let clerk = s.reload(&c.clerk).await;
    assert_eq!(clerk.department, "病棟");
    assert_eq!(clerk.user_type, c.clerk.user_type, "the type never changes");
}

#[rocket::async_test]
async fn an_officers_file_changes_a_registration_number_but_never_to_a_taken_one() {
    let s = server().await;
    let c = cast(&s).await;
    let second = register(
        &s,
        &c.officer,
        "nanbyo_doctor",
        HOSPITAL,
        "二番医",
        "ニバンイ",
        "外科",
        "100003",
    )
    .await;
    s.act_as(&c.officer).await;
    let mut file = Export::of(&s).await;
    // A clerk is not in a 自治体担当者's view; the 指定医 are.
    assert!(file.rows.iter().all(|r| r[0] != c.clerk.login_id));
    // 100002 is the 小慢DB doctor's: free in 難病DB. 100003 is taken in 難病DB.
    file.set(&c.nanbyo_doctor.login_id, "医籍登録番号", "100002");
    let mut taken = Export::of(&s).await;
    taken.set(&c.nanbyo_doctor.login_id, "医籍登録番号", "100003");
    let (_, html) = upload(&s, "番号0.csv", &sjis(&taken.text())).await;
    assert!(
        html.contains(&format!(
            "この医籍登録番号の有効なアカウント（ログインID {}）が同じ対象DBに既にあります。",
            second.login_id
        )),
        "{html}"
    );
    assert!(staging_id(&html).is_none());
    let (_, html) = upload(&s, "番号.csv", &sjis(&file.text())).await;
    assert!(
        html.contains("医籍登録番号：100001 → <strong>100002</strong>"),
        "{html}"
    );
    let (_, done) = confirm(&s, &html, false).await;
    assert!(done.contains("変更 1件"), "{done}");
    assert_eq!(
        s.reload(&c.nanbyo_doctor).await.medical_reg_no.as_deref(),
        Some("100002")
    );
    // A 責任者's file cannot change it: reported, not applied.
    s.act_as(&c.responsible).await;
    let mut file = Export::of(&s).await;
    file.set(&c.clerk.login_id, "医籍登録番号", "123456")
        .set(&c.clerk.login_id, "部署", "外来");
    let (_, html) = upload(&s, "番号2.csv", &sjis(&file.text())).await;
    assert!(
        html.contains(
            "指定医以外のユーザには医籍登録番号は登録されません。この値は反映されません。"
        ),
        "{html}"
    );
}

/// Two 責任者 each send a file deleting the other at the same moment: the second one, decided under the
/// write lock on what the first left, would leave the institution + DB without an active 責任者 and is
/// refused whole.
#[rocket::async_test]
async fn two_responsibles_cannot_delete_each_other_with_files() {
    use nanbyo_accounts::service::changes::ChangeOutcome;
    let s = server().await;
    let c = cast(&s).await;
    let reg = Registration {
        user_type: "responsible".into(),
        db: String::new(),
        institution_code: String::new(),
        profile: profile("副責任", "フクセキニン", "医事課"),
    };
    let second = s.app().register(&c.responsible, &reg, None).await.unwrap();
    // Both read as they were when their uploads began.
    let (a, b) = (s.reload(&c.responsible).await, s.reload(&second).await);
    let deleting =
        |who: &UserRecord| format!("ログインID,更新番号,削除\r\n{},1,削除\r\n", who.login_id);
    let file_a = deleting(&b);
    let file_b = deleting(&a);
    let first = s
        .app()
        .change_commit(&a, &sent(&file_a), false, None)
        .await
        .unwrap();
    assert!(
        matches!(first, ChangeOutcome::Committed { .. }),
        "{first:?}"
    );
    let late = s
        .app()
        .change_commit(&b, &sent(&file_b), false, None)
        .await
        .unwrap();
    let ChangeOutcome::Refused(check) = late else {
        panic!("{late:?}")
    };
    assert!(
        check.file.problems.iter().any(|p| p.reason.starts_with(
            "この医療機関・対象DBで有効な責任者が他にいないため、この操作はできません。"
        )),
        "{:?}",
        check.file.problems
    );
    assert!(
        s.reload(&c.responsible).await.deleted_at.is_none(),
        "the last 責任者 stays"
    );
}

fn sent(text: &str) -> nanbyo_accounts::service::imports::ImportFile<'_> {
    nanbyo_accounts::service::imports::ImportFile {
        bytes: text.as_bytes(),
        name: "退職.csv",
        origin: "web",
    }
}
