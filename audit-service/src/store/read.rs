//! Reading the trail. Lists are keyset-paginated (no OFFSET): a page starts strictly after
//! the last entry of the previous one, so pages stay stable while entries are appended.

use super::{compensation, EntryRow, Store, ENTRY_COLUMNS};
use crate::{
    compensation::CompensationMark,
    entry::StoredEntry,
    error::AuditError,
    query::{contains_pattern, EntryFilter, Page, PageRequest},
};
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};
use uuid::Uuid;

impl Store {
    /// The entries of one aggregate in the order things happened (timestamp, then sequence).
    pub async fn trail(
        &self,
        aggregate_id: &str,
        page: PageRequest<(DateTime<Utc>, i64)>,
    ) -> Result<Page<StoredEntry>, AuditError> {
        let mut sql = QueryBuilder::<Postgres>::new(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE aggregate_id = "
        ));
        sql.push_bind(aggregate_id);
        if let Some((at, sequence)) = page.after {
            sql.push(" AND (occurred_at, sequence) > (")
                .push_bind(at)
                .push(", ")
                .push_bind(sequence)
                .push(")");
        }
        sql.push(" ORDER BY occurred_at, sequence LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows: Vec<EntryRow> = sql.build_query_as().fetch_all(&self.pool).await?;
        Ok(Page::from_fetched(
            rows.into_iter().map(StoredEntry::from).collect(),
            page.limit,
        ))
    }

    /// The entries meeting `filter`, latest recorded first.
    pub async fn search(
        &self,
        filter: &EntryFilter,
        page: PageRequest<i64>,
    ) -> Result<Page<StoredEntry>, AuditError> {
        let mut sql = QueryBuilder::<Postgres>::new(format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE TRUE"
        ));
        let equal = [
            ("event_type", &filter.event_type),
            ("actor", &filter.actor),
            ("correlation_id", &filter.correlation_id),
            ("aggregate_type", &filter.aggregate_type),
            ("aggregate_id", &filter.aggregate_id),
            ("service", &filter.service),
        ];
        for (column, value) in equal {
            if let Some(value) = value {
                sql.push(format_args!(" AND {column} = "))
                    .push_bind(value.clone());
            }
        }
        if let Some(from) = filter.from {
            sql.push(" AND occurred_at >= ").push_bind(from);
        }
        if let Some(to) = filter.to {
            sql.push(" AND occurred_at < ").push_bind(to);
        }
        if let Some(text) = &filter.text {
            sql.push(" AND payload::text ILIKE ")
                .push_bind(contains_pattern(text))
                .push(" ESCAPE '\\'");
        }
        if let Some(after) = page.after {
            sql.push(" AND sequence < ").push_bind(after);
        }
        sql.push(" ORDER BY sequence DESC LIMIT ")
            .push_bind(i64::from(page.limit) + 1);
        let rows: Vec<EntryRow> = sql.build_query_as().fetch_all(&self.pool).await?;
        Ok(Page::from_fetched(
            rows.into_iter().map(StoredEntry::from).collect(),
            page.limit,
        ))
    }

    /// Up to `cap` entries of one correlation id, in recording order, and whether there are
    /// more.
    pub async fn correlation(
        &self,
        correlation_id: &str,
        cap: u32,
    ) -> Result<Page<StoredEntry>, AuditError> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_entries WHERE correlation_id = $1
             ORDER BY sequence LIMIT $2"
        ))
        .bind(correlation_id)
        .bind(i64::from(cap) + 1)
        .fetch_all(&self.pool)
        .await?;
        Ok(Page::from_fetched(
            rows.into_iter().map(StoredEntry::from).collect(),
            cap,
        ))
    }

    /// The compensation marks on the given entries.
    pub async fn marks(&self, event_ids: &[Uuid]) -> Result<Vec<CompensationMark>, AuditError> {
        compensation::marks_on(&self.pool, event_ids).await
    }
}
