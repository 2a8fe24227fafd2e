//! Whether a PostgreSQL error means "the database cannot serve now" (answer 503, try again)
//! rather than "this request failed" (a bug or bad data: 500, or a refusal).

/// SQLSTATE classes and codes the server sends when it is going away, not yet there or out of
/// time: a connection exception (class 08), the operator's shutdown, a crash shutdown or a
/// start still in progress (57P01, 57P02, 57P03), and a statement cancelled at its
/// `statement_timeout` (57014). A restart answers the requests in flight with 57P01
/// ("terminating connection due to administrator command").
fn unavailable_code(code: &str) -> bool {
    code.starts_with("08") || matches!(code, "57014" | "57P01" | "57P02" | "57P03")
}

/// True when trying again later may succeed because the database itself was unreachable,
/// shutting down, starting or out of time: the pool timed out or closed, the connection broke,
/// or the server said so with one of the codes above. Callers answer 503; anything else is a
/// bug or bad data.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| unavailable_code(&code)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::{is_unavailable, unavailable_code};

    #[test]
    fn a_pool_out_of_connections_or_a_broken_connection_is_unavailability() {
        let broken = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for error in [
            sqlx::Error::PoolTimedOut,
            sqlx::Error::PoolClosed,
            sqlx::Error::WorkerCrashed,
            sqlx::Error::Io(broken),
        ] {
            assert!(is_unavailable(&error), "{error}");
        }
    }

    #[test]
    fn a_missing_row_or_a_bad_column_is_not_unavailability() {
        for error in [
            sqlx::Error::RowNotFound,
            sqlx::Error::ColumnNotFound("status".into()),
            sqlx::Error::Protocol("unexpected message".into()),
        ] {
            assert!(!is_unavailable(&error), "{error}");
        }
    }

    #[test]
    fn shutdown_and_connection_codes_are_unavailability_and_refusals_are_not() {
        for code in ["57P01", "57P02", "57P03", "57014", "08006", "08001"] {
            assert!(unavailable_code(code), "{code}");
        }
        for code in ["23505", "22021", "42P01", "40001"] {
            assert!(!unavailable_code(code), "{code}");
        }
    }
}
