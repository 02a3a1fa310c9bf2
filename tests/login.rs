mod common;

use common::*;
use nanbyo_accounts::domain::Db;
use rocket::http::Status;

#[rocket::async_test]
async fn bootstrapped_responsible_logs_in_and_sets_a_password() {
    let s = server().await;
    let (user, temp) = s.bootstrap(Db::Nanbyo, "髙橋").await;
    s.login_and_set_password(&user.login_id, &temp, "Kumo-no-ue7Sora")
        .await;
    let res = s.get("/").await;
    assert_eq!(res.status(), Status::Ok);
    let html = res.into_string().await.unwrap();
    assert!(html.contains("髙橋　美咲 様"), "{html}");
    assert!(html.contains("パスワードを変更しました。"));
}
