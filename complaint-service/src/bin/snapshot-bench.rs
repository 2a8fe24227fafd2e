//! Snapshot benchmark: the time of one command on a complaint with a long history, with and
//! without snapshots, against the real PostgreSQL (`DATABASE_URL`), in a fresh schema that is
//! dropped at the end:
//!
//! ```text
//! cargo run --release -p complaint-service --bin snapshot-bench -- [events] [commands] [every]
//! ```
//!
//! 1. Stores a complaint with `events` events (default 10,000: created, then its priority
//!    changed back and forth), decided by the shared aggregate and appended in one
//!    transaction, as the command side would have appended them one by one.
//! 2. Runs `commands` priority changes (default 50) through `CommandService::execute`, the
//!    path of `PUT /api/complaints/{id}/priority` without HTTP: first with snapshots off
//!    (every command folds the whole stream), then with a snapshot every `every` events
//!    (default 100; the first command of that run folds the whole stream and keeps the first
//!    snapshot, and is reported apart).
//!
//! Prints the median, p95 and max of each run, in milliseconds.

use chrono::{TimeDelta, Utc};
use complaint_service::{
    commands::{CommandContext, CommandService},
    projection::projector::ProjectionSignals,
    store::events,
};
use shared::{
    complaint::{
        decide, evolve, Category, Command, Complaint, ComplaintTitle, Contact, Customer,
        CustomerId, CustomerName, Description, Email, EventCodec, Policy, Priority,
    },
    event::Metadata,
    postgres::{self, DatabaseSettings},
};
use sqlx::{Executor, PgPool};
use std::time::{Duration, Instant};
use uuid::Uuid;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let events: usize = args.next().map_or(Ok(10_000), |a| a.parse())?;
    let commands: usize = args.next().map_or(Ok(50), |a| a.parse())?;
    let every: u32 = args.next().map_or(Ok(100), |a| a.parse())?;

    let settings = DatabaseSettings {
        url: std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| DatabaseSettings::default().url.clone()),
        schema: format!("bench_{}", &Uuid::new_v4().simple().to_string()[..12]),
        max_connections: 2,
        ..DatabaseSettings::default()
    };
    let pool = postgres::connect(&settings).await?;
    let outcome = run(&pool, events, commands, every).await;
    pool.execute(format!("DROP SCHEMA \"{}\" CASCADE", settings.schema).as_str())
        .await?;
    outcome
}

async fn run(pool: &PgPool, events: usize, commands: usize, every: u32) -> anyhow::Result<()> {
    sqlx::migrate!("../migrations/complaint").run(pool).await?;
    let id = Uuid::now_v7();
    let started = Instant::now();
    seed(pool, id, events).await?;
    println!(
        "stored a complaint with {events} events in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The seed's last change was number `events - 1`; carry on from there.
    let mut next = events;
    let without = CommandService::new(pool.clone(), Policy::default(), signals());
    let off = time_commands(&without, id, &mut next, commands).await?;
    report("snapshots off", &off);

    let with =
        CommandService::new(pool.clone(), Policy::default(), signals()).snapshot_every(every);
    let first = time_commands(&with, id, &mut next, 1).await?;
    report(
        "snapshots on, first command (keeps the first snapshot)",
        &first,
    );
    let on = time_commands(&with, id, &mut next, commands).await?;
    report(&format!("snapshots on, every {every} events"), &on);
    Ok(())
}

fn signals() -> ProjectionSignals {
    ProjectionSignals::default()
}

/// Appends `count` events of complaint `id`: created, then priority changes.
async fn seed(pool: &PgPool, id: Uuid, count: usize) -> anyhow::Result<()> {
    let policy = Policy::default();
    let start = Utc::now() - TimeDelta::days(1);
    let mut state = Complaint::empty(id.to_string());
    let mut envelopes = Vec::with_capacity(count);
    for n in 0..count {
        let now = start + TimeDelta::milliseconds(n as i64);
        let command = match n {
            0 => create()?,
            _ => change_priority(n),
        };
        for event in decide(&state, command, &policy, now)? {
            state = evolve(state, &event, now);
            let metadata =
                Metadata::new("snapshot-bench", "bench".into(), now).with_version(state.version);
            envelopes.push(event.to_envelope(&state.id, metadata));
        }
    }
    let mut tx = events::begin(pool).await?;
    events::append(&mut tx, id, &envelopes).await?;
    tx.commit().await?;
    Ok(())
}

/// Runs `count` priority changes on `id`, one after the other, the first being change
/// number `next`; the time of each.
async fn time_commands(
    service: &CommandService,
    id: Uuid,
    next: &mut usize,
    count: usize,
) -> anyhow::Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(count);
    for _ in 0..count {
        let context = CommandContext::new(format!("bench-{next}"));
        let started = Instant::now();
        service
            .execute(id, change_priority(*next), &context)
            .await?;
        times.push(started.elapsed());
        *next += 1;
    }
    Ok(times)
}

/// Change number `n`: LOW for odd `n`, HIGH for even, so that each one changes the priority
/// the previous one set (the first, `n` = 1, from the MEDIUM of creation).
fn change_priority(n: usize) -> Command {
    Command::ChangePriority {
        priority: if n.is_multiple_of(2) {
            Priority::High
        } else {
            Priority::Low
        },
        reason: None,
    }
}

fn create() -> anyhow::Result<Command> {
    Ok(Command::Create {
        title: ComplaintTitle::parse("Invoice charged twice")?,
        description: Description::parse("May's invoice was debited twice.")?,
        category: Category::parse("billing")?,
        priority: Priority::Medium,
        customer: Customer {
            id: CustomerId::parse("customer-42")?,
            name: CustomerName::parse("Ada Lovelace")?,
            contact: Contact {
                email: Email::parse("ada@example.com")?,
            },
        },
    })
}

fn report(what: &str, times: &[Duration]) {
    let mut ms: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1000.0).collect();
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{what}: {} commands, median {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        ms.len(),
        at(0.5),
        at(0.95),
        at(1.0)
    );
}
