//! The retry schedule of the consumer loop and its delay queues: the shared backoff
//! ([`crate::backoff`]), under the name the messaging code has always used.

pub use crate::backoff::{NextStep, RetryPolicy};
