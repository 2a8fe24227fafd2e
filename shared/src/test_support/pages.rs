//! Every item of a paged list, following the `nextCursor` the API answers with.

use serde_json::Value;
use std::future::Future;

/// Asks `fetch` for `path` (which has a query already), then for `path&cursor=<nextCursor>`
/// while an answer names a next page; returns the items under `items` of every page, in order.
pub async fn all_pages<F, Fut>(path: &str, items: &str, mut fetch: F) -> Vec<Value>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Value>,
{
    let mut all = Vec::new();
    let mut next = path.to_owned();
    loop {
        let page = fetch(next).await;
        let found = page[items]
            .as_array()
            .unwrap_or_else(|| panic!("a page has `{items}`: {page}"));
        all.extend(found.iter().cloned());
        match page["nextCursor"].as_str() {
            Some(cursor) => next = format!("{path}&cursor={cursor}"),
            None => return all,
        }
    }
}
