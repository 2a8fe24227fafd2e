//! Given/when/then tests of the aggregate, without a framework: `given` the events so far,
//! `when` a command is decided at some time, `then` compare the events, refusal or state.
//! The fixtures are in [`crate::test_support`].

mod assignment;
mod fold;
mod lifecycle;
mod reopen;
mod sla;
mod transitions;

use chrono::TimeDelta;

use crate::test_support::*;
use crate::*;
