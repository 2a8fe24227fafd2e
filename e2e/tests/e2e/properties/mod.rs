//! One history, three views: random command histories (creates, valid and refused
//! transitions, reassignments, reopenings, priority changes, assignments to agents nobody
//! knows, and pairs of commands racing with or without `If-Match`) are sent to the four
//! services, and once each has settled the read model, the event store and the audit trail
//! must tell the same story of every complaint ([`views`] says exactly what is checked).
//!
//! One suite serves every case; each case files complaints of its own. A failure prints the
//! history (one step per line), what each command was answered, and each view of each
//! complaint. CI runs [`DEFAULT_CASES`] cases; `PROPTEST_CASES=200` runs a longer search, and
//! the other `PROPTEST_*` variables (`PROPTEST_RNG_SEED`, `PROPTEST_MAX_SHRINK_ITERS`, …)
//! work as proptest documents them.

mod drive;
mod history;
mod views;

use crate::suite::Suite;
use drive::Transcript;
use futures_util::FutureExt;
use history::History;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestCaseResult, TestRunner};
use std::panic::AssertUnwindSafe;

/// Cases per run unless `PROPTEST_CASES` says otherwise: about a second each on an idle
/// machine, up to five seconds beside other tests: this test stays within about a minute.
const DEFAULT_CASES: u32 = 12;

/// Shrinking replays whole histories against the services, each taking a second or so (a
/// timed-out wait, 30 s): bounded in attempts and in time, unless `PROPTEST_MAX_SHRINK_ITERS`
/// or `PROPTEST_MAX_SHRINK_TIME` (milliseconds) say otherwise, so that a failure is reported
/// well before nextest ends a test (five minutes).
const DEFAULT_SHRINK_ITERS: u32 = 64;
const DEFAULT_SHRINK_TIME_MS: u32 = 120_000;

#[test]
fn after_any_command_history_the_read_model_the_event_store_and_the_audit_trail_agree() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    // The SLA of the policy in force (hours), not the suite's two-second CRITICAL one: an
    // escalation every two seconds would keep a CRITICAL complaint from ever settling.
    let suite = runtime.block_on(Suite::start_with(|config| {
        config.policy = complaint_service::config::PolicySettings::default();
    }));
    let agents = runtime.block_on(active_agents(&suite));

    let config = config();
    let mut runner = TestRunner::new(config.clone());
    let outcome = runner.run(&history::histories(), |history| {
        runtime.block_on(holds_for(&suite, &agents, &history))
    });
    runtime.block_on(suite.stop());
    if let Err(failure) = outcome {
        let RngSeed::Fixed(seed) = config.rng_seed else {
            unreachable!("the seed is chosen up front")
        };
        panic!("{failure}\nthe same histories again: PROPTEST_RNG_SEED={seed}");
    }
}

/// Runs one history and checks the views; a failure says what happened.
async fn holds_for(suite: &Suite, agents: &[String], history: &History) -> TestCaseResult {
    let mut transcript = Transcript::default();
    let checked = AssertUnwindSafe(async {
        drive::drive(suite, agents, history, &mut transcript).await;
        views::agree(suite, &transcript).await;
    })
    .catch_unwind()
    .await;

    let Err(panic) = checked else {
        return Ok(());
    };
    let why = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("a panic without a message");
    let views = AssertUnwindSafe(views::describe(suite, &transcript))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| "the views could not be read".to_owned());
    Err(TestCaseError::fail(format!(
        "{why}\n{history:?}\n{transcript}{views}"
    )))
}

/// The directory's active agents: the ones an assignment can notify.
async fn active_agents(suite: &Suite) -> Vec<String> {
    let agents: Vec<String> = suite
        .agents()
        .await
        .into_iter()
        .filter(|a| a.role == "AGENT" && a.active)
        .map(|a| a.id)
        .collect();
    assert!(!agents.is_empty(), "the directory has active agents");
    agents
}

/// proptest's settings from its `PROPTEST_*` variables, with this test's defaults for the
/// number of cases and of shrinking steps, and a seed chosen here so that a failure can say
/// it; no regression files (a failure prints its history and the seed).
fn config() -> Config {
    let set = |name: &str| std::env::var_os(name).is_some();
    let mut config = Config::default();
    if !set("PROPTEST_CASES") {
        config.cases = DEFAULT_CASES;
    }
    if !set("PROPTEST_MAX_SHRINK_ITERS") {
        config.max_shrink_iters = DEFAULT_SHRINK_ITERS;
    }
    if !set("PROPTEST_MAX_SHRINK_TIME") {
        config.max_shrink_time = DEFAULT_SHRINK_TIME_MS;
    }
    if let RngSeed::Random = config.rng_seed {
        config.rng_seed = RngSeed::Fixed(uuid::Uuid::new_v4().as_u64_pair().0);
    }
    config.failure_persistence = None;
    config
}
