//! `remind` (DESIGN §13): the monthly アカウント棚卸し summary to every active 責任者 / 自治体担当者
//! with an email address, and a notice to every person with one `remind_expiry_days` before their
//! 有効期限. Each message is claimed in the database before it is written to the outbox, so a
//! second run (the same day, or a second machine) sends nothing twice.

use time::Duration;

use crate::domain::review::{describe_counts, review_due, ReviewScope};
use crate::domain::time::{format_jst, iso_date, jst_date};
use crate::mail::messages::Administrator;
use crate::mail::reminders::Summary;
use crate::mail::Mail;
use crate::store::review as store;

use super::{App, Result};

/// What one run sent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct RemindReport {
    pub summaries: usize,
    pub expiry_notices: usize,
    /// Lines for the console (names and counts, never a password).
    pub lines: Vec<String>,
}

impl App {
    /// The link a summary carries: the notice's login URL with `/review` for `/login`.
    fn review_link(&self) -> Option<String> {
        let login = self.settings.notice_login_url().ok()?;
        Some(match login.strip_suffix("/login") {
            Some(base) => format!("{base}/review"),
            None => format!("{}/review", login.trim_end_matches('/')),
        })
    }

    pub async fn remind(&self) -> Result<RemindReport> {
        let now = self.now();
        let today = jst_date(now);
        let month = format!("{:04}-{:02}", today.year(), u8::from(today.month()));
        let policy = self.settings.review();
        let link = self.review_link();
        let mut report = RemindReport::default();
        let mut mails = Vec::new();

        for reviewer in store::active_reviewers_with_email(self.store.pool(), today).await? {
            let Some(scope) = ReviewScope::of(&reviewer.actor()) else {
                continue;
            };
            let Some(address) = reviewer.email.clone() else {
                continue;
            };
            let mut tx = self.store.begin_write().await?;
            if !store::claim_reminder(&mut tx, "summary", reviewer.id, &month, now).await? {
                continue;
            }
            let lists = self.review_lists_at(&mut tx, &reviewer, now).await?;
            let counts: Vec<(String, u64)> = lists
                .iter()
                .map(|l| (l.group.label(&policy), l.accounts.len() as u64))
                .collect();
            let last = store::last_review_at(&mut *tx, &scope).await?;
            let scope_name = store::scope_label(&mut *tx, &scope).await?;
            tx.commit().await?;
            let full_name = reviewer.full_name();
            mails.push(Mail::review_summary(
                &address,
                &Summary {
                    full_name: &full_name,
                    scope: &scope_name,
                    counts: &counts,
                    last_review: last.map(format_jst),
                    review_due: review_due(last, &policy, now),
                    link: link.as_deref(),
                },
            ));
            report.summaries += 1;
            let short: Vec<_> = lists
                .iter()
                .map(|l| (l.group, l.accounts.len() as u64))
                .collect();
            report.lines.push(format!(
                "棚卸しのお知らせ: {full_name} 様（{scope_name}）{}",
                describe_counts(&short)
            ));
        }

        let horizon = today
            .checked_add(Duration::days(self.settings.remind_expiry_days.max(0)))
            .unwrap_or(today);
        for person in store::expiring_with_email(self.store.pool(), today, horizon).await? {
            let (Some(address), Some(expires_on)) = (person.email.clone(), person.expires_on)
            else {
                continue;
            };
            // Keyed by the date: a 有効期限 moved later is told again when it comes near.
            let period = iso_date(expires_on);
            let mut tx = self.store.begin_write().await?;
            if !store::claim_reminder(&mut tx, "expiry", person.id, &period, now).await? {
                continue;
            }
            tx.commit().await?;
            let admin = Administrator::of(
                person.user_type,
                person.institution_name.as_deref().unwrap_or(""),
                &person.municipality_name,
            )
            .text();
            let full_name = person.full_name();
            mails.push(Mail::expiry_notice(
                &full_name, &address, expires_on, &admin,
            ));
            report.expiry_notices += 1;
            report.lines.push(format!(
                "有効期限のお知らせ: {full_name} 様（有効期限 {}）",
                crate::domain::time::format_date(expires_on)
            ));
        }
        self.post_mail(mails).await;
        Ok(report)
    }
}
