//! The read model rebuilt beside the live one and swapped in, all in the rebuild's
//! transaction.
//!
//! The new tables are created empty in a schema of their own, placed first on the
//! transaction's `search_path`: the projector's statements, which name tables unqualified,
//! then write them instead of the live ones, and still read the event store and the
//! checkpoint from the service's schema. They get their key constraints at once (the upserts
//! need them) and their other indexes once filled: building an index once is several times
//! faster than keeping seven (one GIN) up to date row by row. Constraints and indexes are
//! copied from the live tables as the catalog has them, so a migration that adds one needs
//! no change here.
//!
//! The swap drops the live tables and moves the new ones into the service's schema. Readers
//! read the old model until then; the `DROP` makes them wait only from the swap to the commit.
//! Should the rebuild fail, the rollback leaves no trace of it.

use sqlx::{postgres::PgRow, PgConnection, Row};

/// The tables of the read model (the checkpoint is moved, not rebuilt).
const TABLES: [&str; 2] = ["complaint_view", "complaint_timeline"];

/// The schema that holds the new tables while they are filled.
pub struct Shadow {
    live: String,
    shadow: String,
}

/// Creates the empty new tables (dropping those a failed rebuild may have left) and points
/// this transaction's unqualified names at them.
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
        for statement in copy_indexes(conn, &live, &shadow, table, Backing::Constraint).await? {
            execute(conn, &statement).await?;
        }
    }
    execute(
        conn,
        &format!("SET LOCAL search_path = \"{shadow}\", \"{live}\""),
    )
    .await?;
    Ok(Shadow { live, shadow })
}

impl Shadow {
    /// Gives the filled new tables the live tables' other indexes.
    pub async fn index(&self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        for table in TABLES {
            let statements =
                copy_indexes(conn, &self.live, &self.shadow, table, Backing::Nothing).await?;
            for statement in statements {
                execute(conn, &statement).await?;
            }
        }
        Ok(())
    }

    /// Replaces the live tables with the new ones (committed by then, or in this same
    /// transaction).
    pub async fn swap_in(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        let Shadow { live, shadow } = self;
        for table in TABLES {
            execute(conn, &format!("DROP TABLE \"{live}\".{table}")).await?;
            execute(
                conn,
                &format!("ALTER TABLE \"{shadow}\".{table} SET SCHEMA \"{live}\""),
            )
            .await?;
        }
        execute(conn, &format!("DROP SCHEMA \"{shadow}\"")).await
    }
}

/// Which of a table's indexes to copy.
#[derive(Clone, Copy, PartialEq)]
enum Backing {
    /// Those of its primary key and unique constraints.
    Constraint,
    /// The others.
    Nothing,
}

/// The statements that give `shadow.table` the indexes (or key constraints) of `live.table`,
/// under the same names (names are per schema; the live ones go with the live tables).
async fn copy_indexes(
    conn: &mut PgConnection,
    live: &str,
    shadow: &str,
    table: &str,
    backing: Backing,
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
    let target = format!("\"{shadow}\".{table}");
    let mut statements = Vec::new();
    for row in &rows {
        let constraint: Option<String> = row.try_get("constraint_name")?;
        match (constraint, backing) {
            (Some(name), Backing::Constraint) => {
                let definition: String = row.try_get("constraint_def")?;
                statements.push(format!(
                    "ALTER TABLE {target} ADD CONSTRAINT \"{name}\" {definition}"
                ));
            }
            (None, Backing::Nothing) => statements.push(index_statement(row, &target)?),
            _ => {}
        }
    }
    Ok(statements)
}

/// `CREATE [UNIQUE] INDEX name ON target …` for the index described by `row`.
fn index_statement(row: &PgRow, target: &str) -> Result<String, sqlx::Error> {
    let index: String = row.try_get("index")?;
    let unique: bool = row.try_get("is_unique")?;
    let definition: String = row.try_get("def")?;
    // `CREATE [UNIQUE] INDEX name ON schema.table USING method (...) [WHERE ...]`: only the
    // part from USING on is kept.
    let (_, method_and_keys) = definition.split_once(" USING ").ok_or_else(|| {
        sqlx::Error::Protocol(format!("unexpected index definition {definition:?}"))
    })?;
    let unique = if unique { "UNIQUE " } else { "" };
    Ok(format!(
        "CREATE {unique}INDEX \"{index}\" ON {target} USING {method_and_keys}"
    ))
}

/// Runs a statement built here; none is worth keeping prepared.
async fn execute(conn: &mut PgConnection, statement: &str) -> Result<(), sqlx::Error> {
    sqlx::query(statement)
        .persistent(false)
        .execute(conn)
        .await
        .map(|_| ())
}
