//! Which way a search reaches its rows ([`Plan`]): the view read in order with LIKE alone, or the
//! accounts that have the rarest n-gram of its partial conditions. Chosen per query from the grams'
//! frequencies in the view, so that neither a rare name nor a common one reads the whole view.

use sqlx::AnyExecutor;

use crate::domain::ngram::{query_grams, GramField};
use crate::domain::search::{Filter, SortKey, UserQuery};
use crate::domain::visibility::View;

use super::ngrams::{self, GramScope};
use super::search::COUNT_CAP;
use super::Result;

/// Bigrams of one long condition probed for the rarest: enough to find a rare one, few enough that
/// probing stays cheaper than the search.
const MAX_PROBES: usize = 6;

/// Each gram is counted up to this many to rank them: with a lower cap every common gram of a
/// long query ties (外来, 来1 and 17 of 外来17 all above 1,000) and the first, not the rarest, would
/// drive it. An index-only count, a millisecond or two at this size.
const PROBE_CAP: u64 = 8_000;

/// How the query reaches its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// The view through the users indexes, partial conditions by LIKE alone: no partial condition,
    /// the only-self view, or a common gram under an order the gram index does not keep.
    Scan,
    /// From the accounts of `scope` that have `gram` (the rarest gram of the partial conditions):
    /// in the gram index's order (フリガナ, id) when `ordered`, else sorted after.
    Gram {
        field: GramField,
        gram: String,
        scope: GramScope<'static>,
        ordered: bool,
    },
    /// A gram no account of the view has: nothing can match.
    Empty,
}

/// At most `n` of `items`, spread from first to last.
fn spread(items: Vec<String>, n: usize) -> Vec<String> {
    if items.len() <= n {
        return items;
    }
    let last = items.len() - 1;
    let mut picked: Vec<usize> = (0..n).map(|k| k * last / (n - 1)).collect();
    picked.dedup();
    picked.into_iter().map(|i| items[i].clone()).collect()
}

/// Chooses the plan: probes the grams of the partial conditions in the view (one statement, each
/// count stopping above the cap) and drives the search from the rarest.
pub async fn choose_plan<'e, E>(db: E, view: &View, query: &UserQuery) -> Result<Plan>
where
    E: AnyExecutor<'e>,
{
    let scope = match *view {
        View::InstitutionDb { institution_id, db } | View::ClerksOf { institution_id, db } => {
            GramScope::InstitutionDb {
                institution_id,
                db: db.as_str(),
            }
        }
        View::Municipality { .. } => GramScope::Everywhere,
        View::OnlySelf { .. } => return Ok(Plan::Scan),
    };
    let mut grams = Vec::new();
    for f in &query.filters {
        let (field, s) = match f {
            Filter::Name(s) => (GramField::Name, s),
            Filter::Department(s) => (GramField::Department, s),
            _ => continue,
        };
        grams.extend(
            spread(query_grams(s), MAX_PROBES)
                .into_iter()
                .map(|g| (field, g)),
        );
    }
    if grams.is_empty() {
        return Ok(Plan::Scan);
    }
    let counts = ngrams::frequencies(db, &grams, scope, PROBE_CAP).await?;
    let Some((rarest, n)) = counts
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map(|(i, n)| (i, *n))
    else {
        return Ok(Plan::Scan);
    };
    if n == 0 {
        return Ok(Plan::Empty);
    }
    let in_one_institution = matches!(scope, GramScope::InstitutionDb { .. });
    let ordered = in_one_institution && query.sort == SortKey::Kana;
    // Another order over a gram that many accounts have: sorting them all would cost more than
    // reading the view in that order until the page is full. A municipality's view has no such
    // index (it spans institutions), so there the gram's accounts are always the shorter way.
    if !ordered && in_one_institution && n > COUNT_CAP {
        return Ok(Plan::Scan);
    }
    let (field, gram) = grams.swap_remove(rarest);
    Ok(Plan::Gram {
        field,
        gram,
        scope,
        ordered,
    })
}
