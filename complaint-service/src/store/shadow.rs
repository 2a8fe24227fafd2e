//! The read model rebuilt beside the live one and swapped in, all in the rebuild's
//! transaction.
//!
//! The new tables are created empty and without indexes in a schema of their own, placed
//! first on the transaction's `search_path`: the projector's statements, which name tables
//! unqualified, then write them instead of the live ones, and still read the event store and
//! the checkpoint from the service's schema. Filling tables without indexes and building the
//! indexes once at the end is several times faster than keeping seven indexes (one GIN) up to
//! date row by row. The indexes and key constraints are copied from the live tables as the
//! catalog has them, so a migration that adds one needs no change here.
//!
//! The swap drops the live tables and moves the new ones into the service's schema. Readers
//! read the old model until then; the `DROP` makes them wait only from the swap to the commit.
//! Should the rebuild fail, the rollback leaves no trace of it.

use sqlx::{PgConnection, Row};

/// The tables of the read model (the checkpoint is moved, not rebuilt).
const TABLES: [&str; 2] = ["complaint_view", "complaint_timeline"];

/// The schema that holds the new tables while they are filled.
pub struct Shadow {
    live: String,
    shadow: String,
}

/// Creates the empty new tables and points this transaction's unqualified names at them.
pub async fn open(conn: &mut PgConnection) -> Result<Shadow, sqlx::Error> {
    let live: String = sqlx::query_scalar("SELECT current_schema()")
        .fetch_one(&mut *conn)
        .await?;
    // Schema names are [A-Za-z0-9_] (`shared::postgres::connect`), so quoting is enough.
    let shadow = format!("{live}_rebuild");
    execute(conn, &format!("DROP SCHEMA IF EXISTS \"{shadow}\" CASCADE")).await?;
    execute(conn, &format!("CREATE SCHEMA \"{shadow}\"")).await?;
    for table in TABLES {
        execute(
            conn,
            &format!(
                "CREATE TABLE \"{shadow}\".{table} (LIKE \"{live}\".{table}
                     INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS)"
            ),
        )
        .await?;
    }
    execute(
        conn,
        &format!("SET LOCAL search_path = \"{shadow}\", \"{live}\""),
    )
    .await?;
    Ok(Shadow { live, shadow })
}

impl Shadow {
    /// Indexes the new tables as the live ones are, replaces the live tables with them and
    /// gives the transaction its `search_path` back.
    pub async fn swap_in(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let Shadow { live, shadow } = self;
        for table in TABLES {
            for statement in index_statements(conn, &live, &shadow, table).await? {
                execute(conn, &statement).await?;
            }
        }
        for table in TABLES {
            execute(conn, &format!("DROP TABLE \"{live}\".{table}")).await?;
            execute(
                conn,
                &format!("ALTER TABLE \"{shadow}\".{table} SET SCHEMA \"{live}\""),
            )
            .await?;
        }
        execute(conn, &format!("DROP SCHEMA \"{shadow}\"")).await?;
        execute(conn, &format!("SET LOCAL search_path = \"{live}\"")).await
    }
}

/// The statements that give `shadow.table` the indexes and key constraints of
/// `live.table`, under the same names (names are per schema; the live ones go with the
/// live tables).
async fn index_statements(
    conn: &mut PgConnection,
    live: &str,
    shadow: &str,
    table: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT c.relname AS index, i.indisunique AS is_unique, pg_get_indexdef(i.indexrelid) AS def,
                con.conname AS constraint_name, pg_get_constraintdef(con.oid) AS constraint_def
         FROM pg_index i
         JOIN pg_class c ON c.oid = i.indexrelid
         LEFT JOIN pg_constraint con ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
         WHERE i.indrelid = (quote_ident($1) || '.' || quote_ident($2))::regclass
         ORDER BY c.relname",
    )
    .bind(live)
    .bind(table)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| {
            let target = format!("\"{shadow}\".{table}");
            if let Some(name) = row.try_get::<Option<String>, _>("constraint_name")? {
                let definition: String = row.try_get("constraint_def")?;
                return Ok(format!(
                    "ALTER TABLE {target} ADD CONSTRAINT \"{name}\" {definition}"
                ));
            }
            let (index, unique, definition): (String, bool, String) = (
                row.try_get("index")?,
                row.try_get("is_unique")?,
                row.try_get("def")?,
            );
            // `CREATE [UNIQUE] INDEX name ON schema.table USING method (...) [WHERE ...]`:
            // only the part from USING on is kept.
            let (_, method_and_keys) = definition.split_once(" USING ").ok_or_else(|| {
                sqlx::Error::Protocol(format!("unexpected index definition {definition:?}"))
            })?;
            let unique = if unique { "UNIQUE " } else { "" };
            Ok(format!(
                "CREATE {unique}INDEX \"{index}\" ON {target} USING {method_and_keys}"
            ))
        })
        .collect()
}

/// Runs a statement built here; none is worth keeping prepared.
async fn execute(conn: &mut PgConnection, statement: &str) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .persistent(false)
        .execute(conn)
        .await
        .map(|_| ())
}
