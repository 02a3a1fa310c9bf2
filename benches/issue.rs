//! Benchmark (not a test): issuing a 1,000-notice batch through the service, as the search screen's
//! [一括発行] does — 1,000 temporary passwords generated and stored as HMACs, 1,000 audit entries, and
//! the merged PDF — in one transaction. Prints time, size and pages.
//!
//!     cargo bench --bench issue [-- COUNT]

use std::sync::Arc;
use std::time::Instant;

use nanbyo_accounts::config::{Keys, Settings};
use nanbyo_accounts::domain::account::{Profile, RawProfile};
use nanbyo_accounts::domain::time::SystemClock;
use nanbyo_accounts::domain::Db;
use nanbyo_accounts::domain::UserType;
use nanbyo_accounts::service::console::BootstrapHome;
use nanbyo_accounts::service::notices::Issuer;
use nanbyo_accounts::service::App;
use nanbyo_accounts::store::users::{self, Home};

#[rocket::main]
async fn main() {
    let count: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap();
    let settings = Settings {
        data_dir: dir.path().to_path_buf(),
        ..Settings::default()
    };
    let keys = Keys::load(&settings).unwrap();
    let app = App::open(settings, keys, Arc::new(SystemClock))
        .await
        .unwrap();
    app.add_municipality("131041", "新宿区").await.unwrap();
    app.add_institution("1311234567", "東京中央病院", "131041")
        .await
        .unwrap();
    let raw = |f: &str, k: &str, d: String| RawProfile {
        department: d,
        family_name: f.into(),
        given_name: "花子".into(),
        family_kana: k.into(),
        given_kana: "ハナコ".into(),
        ..RawProfile::default()
    };
    let home = BootstrapHome::Institution {
        code: "1311234567".into(),
        db: Db::Nanbyo,
    };
    let (admin, _) = app
        .bootstrap(&home, &raw("髙橋", "タカハシ", "医事課".into()))
        .await
        .unwrap();
    let mut tx = app.store.begin_write().await.unwrap();
    let mut ids = Vec::with_capacity(count);
    for i in 0..count {
        let profile =
            Profile::parse(&raw("山﨑", "ヤマザキ", format!("病棟{}", i % 20)), false).unwrap();
        let home = Home::Institution {
            institution_id: admin.institution_id.unwrap(),
            db: Db::Nanbyo,
        };
        let (id, _) = users::create(
            &mut tx,
            home,
            UserType::Clerk,
            &profile,
            Some(admin.id),
            app.now(),
        )
        .await
        .unwrap();
        ids.push(id);
    }
    tx.commit().await.unwrap();

    let t = Instant::now();
    let (eligible, ineligible) = app
        .notice_eligibility(&admin, &ids, &Default::default(), None)
        .await
        .unwrap();
    let checked = t.elapsed();
    assert!(ineligible.is_empty());
    let t = Instant::now();
    let pdf = app
        .issue_notices(Issuer::User(&admin), eligible, true, None)
        .await
        .unwrap();
    let issued = t.elapsed();
    let pages = lopdf::Document::load_mem(&pdf)
        .map(|d| d.get_pages().len())
        .unwrap_or(0);
    println!("{count} notices issued through the service (SQLite, one transaction):");
    println!(
        "  role and state check of the selection: {:.3} s",
        checked.as_secs_f64()
    );
    println!(
        "  passwords + HMACs + audit entries + PDF (with 交付管理表): {:.3} s, {} bytes ({:.2} MB), {pages} pages",
        issued.as_secs_f64(),
        pdf.len(),
        pdf.len() as f64 / 1e6
    );
}
