//! The envelope codec and the snapshots, tested with the domain's own given/when/then
//! fixtures (`domain::test_support`).

mod codec;
mod snapshots;

use chrono::{DateTime, Utc};
use domain::test_support::*;

use super::*;
