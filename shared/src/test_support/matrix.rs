//! An authorization matrix checked cell by cell: every route as every caller
//! ([`super::auth::CALLERS`]), the test failing once at the end with every cell where the
//! service answered otherwise, so that one run shows the whole difference.

use reqwest::StatusCode;
use serde_json::Value;

#[derive(Default)]
pub struct Matrix {
    wrong: Vec<String>,
}

impl Matrix {
    /// Records the cell (`route` as `caller`) if the service answered `status`, not
    /// `expected`; `body` shows what it said.
    pub fn check(
        &mut self,
        route: &str,
        caller: &str,
        expected: u16,
        status: StatusCode,
        body: &Value,
    ) {
        if status.as_u16() != expected {
            self.wrong.push(format!(
                "{route} as {caller}: expected {expected}, got {status} {body}"
            ));
        }
    }

    /// Records a difference found another way (a header, an error code).
    pub fn wrong(&mut self, what: String) {
        self.wrong.push(what);
    }

    /// Fails the test, listing every cell that differs.
    pub fn assert_holds(self) {
        assert!(
            self.wrong.is_empty(),
            "the matrix is not what the service does:\n{}",
            self.wrong.join("\n")
        );
    }
}
