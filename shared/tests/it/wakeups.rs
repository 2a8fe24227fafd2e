//! NOTIFY wake-ups against the real PostgreSQL: a commit wakes the loop at once, and listening
//! resumes by itself after the database refused it, even while a poll tick keeps cancelling
//! the wait.

use shared::{postgres::Wakeups, test_support};
use sqlx::PgPool;
use std::time::Duration;

const CHANNEL_SQL: &str = "current_schema() || '_wake'";
/// Names the channel only once the table exists: until then, LISTEN cannot be set up.
const LATE_CHANNEL_SQL: &str = "(SELECT name FROM wake_channel)";

async fn pool() -> PgPool {
    shared::postgres::connect(&test_support::database())
        .await
        .unwrap()
}

async fn notify(pool: &PgPool, channel_sql: &str) {
    sqlx::query(&format!("SELECT pg_notify({channel_sql}, '')"))
        .execute(pool)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_notify_on_the_channel_wakes_the_listener_and_nothing_else_does() {
    let pool = pool().await;
    let mut wakeups = Wakeups::listen(&pool, CHANNEL_SQL).await;

    let quiet = tokio::time::timeout(Duration::from_millis(300), wakeups.next()).await;
    assert!(quiet.is_err(), "woke without a notification");

    notify(&pool, "'some_other_channel'").await;
    let other = tokio::time::timeout(Duration::from_millis(300), wakeups.next()).await;
    assert!(other.is_err(), "woke for another channel");

    notify(&pool, CHANNEL_SQL).await;
    tokio::time::timeout(Duration::from_secs(5), wakeups.next())
        .await
        .expect("the notification wakes the listener");
}

#[tokio::test]
async fn listening_resumes_after_a_refusal_even_when_a_poll_keeps_cancelling_the_wait() {
    let pool = pool().await;
    let mut wakeups = Wakeups::listen(&pool, LATE_CHANNEL_SQL).await;
    sqlx::raw_sql(
        "CREATE TABLE wake_channel (name TEXT); INSERT INTO wake_channel VALUES ('late_wake');",
    )
    .execute(&pool)
    .await
    .unwrap();

    // The loops poll every second or less, and each tick drops the pending `next()`.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "listening never resumed"
        );
        let tick = tokio::time::sleep(Duration::from_millis(100));
        tokio::select! {
            _ = wakeups.next() => break, // resumed: notifications may have been missed
            _ = tick => {}
        }
    }

    notify(&pool, LATE_CHANNEL_SQL).await;
    tokio::time::timeout(Duration::from_secs(5), wakeups.next())
        .await
        .expect("the notification wakes the listener once listening resumed");
}
