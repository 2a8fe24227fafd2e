//! The envelope codec, the snapshots and `shared::wire_enum!`, tested with the domain's own
//! given/when/then fixtures (`domain::test_support`, on in tests through the `test-support`
//! feature).

mod codec;
mod snapshots;
mod wire_enum;

use chrono::{DateTime, Utc};
use domain::test_support::*;

use super::*;
