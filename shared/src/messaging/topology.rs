//! The exchanges, queues and bindings a service needs, described as data first and then
//! declared on the broker. Describing before declaring lets tests compare the plan with the
//! broker's definitions and lets the reconnect path re-declare exactly the same thing.
//!
//! For every work queue `Q` the plan holds:
//! - `Q` itself: a quorum queue whose broker-side dead letters (delivery limit exceeded) go to `Q.dlq`;
//! - `Q.dlq`: where messages end that cannot be handled, with the reason in their headers. A
//!   durable classic queue: it is written rarely and read by people, and a classic queue
//!   returns peeked messages to their place, keeping the DLQ in arrival order;
//! - `Q.retry.<ms>ms`: one classic TTL queue per backoff delay. A failed message is published
//!   there through the default exchange; when its TTL expires the broker dead-letters it straight
//!   back into `Q` (again through the default exchange), so a retry reaches only the queue whose
//!   handler failed, never the other queues bound to the same routing key.
//!
//! With `partitions` P > 1 (ARCHITECTURE.md, "Scaling"), a partitioned work queue `Q` is split:
//! - `Q.partitions`: a consistent-hash exchange bound to what `Q` would be bound to; it hashes
//!   the `x-partition-key` header the publisher sets (the complaint an event is about), so one
//!   complaint always lands in the same partition;
//! - `Q.p0` … `Q.p<P-1>`: the partitions, each a work queue as above (single active consumer),
//!   bound to `Q.partitions` with equal weight;
//! - `Q.p<i>.retry.<ms>ms`: the delay queues of each partition, which send a retry back into the
//!   partition it failed in (never re-hashed, so a change of P does not move a retry);
//! - `Q.dlq`: still one per logical queue, so operators look in one place;
//! - `Q.member.<k>`: not declared here; exclusive queues the running instances hold to count
//!   each other (`membership.rs`).
//!
//! P = 1 is the plan above, unchanged.

use super::{permissions::Grant, retry::RetryPolicy};
use crate::event::exchanges;
use lapin::{
    options::{ExchangeBindOptions, ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions},
    types::{AMQPValue, FieldTable, LongString},
    Channel, ExchangeKind,
};
use std::time::Duration;

/// Unroutable events land here (every domain exchange names it as its alternate exchange),
/// so a publish with no bound queue is kept for an operator instead of being returned or lost.
pub const UNROUTED: &str = "events.unrouted";
/// Quorum queues dead-letter a message redelivered this often (a handler that crashes the process).
pub const DELIVERY_LIMIT: i64 = 20;
const UNROUTED_MAX_LENGTH: i64 = 100_000;

pub fn dlq_name(queue: &str) -> String {
    format!("{queue}.dlq")
}

pub fn retry_queue_name(queue: &str, delay: Duration) -> String {
    format!("{queue}.retry.{}ms", delay.as_millis())
}

pub fn partition_queue_name(queue: &str, partition: u16) -> String {
    format!("{queue}.p{partition}")
}

/// The consistent-hash exchange that spreads a partitioned queue's messages.
pub fn partition_exchange_name(queue: &str) -> String {
    format!("{queue}.partitions")
}

/// The exchange type of the partition exchanges (the `rabbitmq_consistent_hash_exchange` plugin).
pub const CONSISTENT_HASH: &str = "x-consistent-hash";

/// A work queue and what it listens to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueSpec {
    pub name: String,
    pub bindings: Vec<Binding>,
    /// One consumer at a time across all instances, so one complaint's events stay in order.
    pub single_active_consumer: bool,
    /// Split into the topology's partitions (by aggregate id). Off for a queue whose messages
    /// carry no aggregate id header (commands sent by clients).
    pub partitioned: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub exchange: String,
    pub routing_key: String,
}

impl QueueSpec {
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            bindings: Vec::new(),
            single_active_consumer: true,
            partitioned: true,
        }
    }

    /// One queue whatever the topology's partitions (see [`QueueSpec::partitioned`]).
    pub fn unpartitioned(mut self) -> Self {
        self.partitioned = false;
        self
    }

    pub fn bind(mut self, exchange: &str, routing_key: &str) -> Self {
        self.bindings.push(Binding {
            exchange: exchange.to_owned(),
            routing_key: routing_key.to_owned(),
        });
        self
    }

    /// Every event of every domain exchange.
    pub fn bind_all_domain_events(self) -> Self {
        exchanges::DOMAIN_EXCHANGES
            .iter()
            .fold(self, |spec, exchange| spec.bind(exchange, "#"))
    }

    pub fn dlq(&self) -> String {
        dlq_name(&self.name)
    }
}

/// The whole topology of one service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    pub queues: Vec<QueueSpec>,
    pub retry: RetryPolicy,
    pub work_queue_type: WorkQueueType,
    /// Partitions of each partitioned work queue; 1 is one queue, as before partitioning.
    pub partitions: u16,
}

/// Where a message enters a logical work queue: the queue itself through the default exchange,
/// or its partition exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub exchange: String,
    pub routing_key: String,
}

/// The type of the work queues. Quorum in every deployment; the integration tests run classic
/// work queues (`test_support::broker`) because one RabbitMQ 3.10 on two cores wedges under
/// the hundreds of quorum queues a test run's vhosts add up to. The shared messaging tests and
/// the ops checks (real binaries, default settings) exercise the quorum configuration.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkQueueType {
    #[default]
    Quorum,
    Classic,
}

/// A queue or exchange argument, in a form both AMQP and JSON definitions can take.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arg {
    Str(String),
    Int(i64),
    Bool(bool),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExchangeDecl {
    pub name: String,
    /// "topic", "fanout" or [`CONSISTENT_HASH`].
    pub kind: &'static str,
    pub arguments: Vec<(&'static str, Arg)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueDecl {
    pub name: String,
    pub arguments: Vec<(&'static str, Arg)>,
}

/// Everything to declare, in the order it must be declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Declarations {
    pub exchanges: Vec<ExchangeDecl>,
    pub queues: Vec<QueueDecl>,
    pub bindings: Vec<(String, Binding)>,
    /// Exchange-to-exchange bindings: (destination exchange, source and routing key).
    pub exchange_bindings: Vec<(String, Binding)>,
}

impl Topology {
    pub fn new(retry: RetryPolicy) -> Self {
        Self {
            queues: Vec::new(),
            retry,
            work_queue_type: WorkQueueType::Quorum,
            partitions: 1,
        }
    }

    pub fn with_partitions(mut self, partitions: u16) -> Self {
        self.partitions = partitions.max(1);
        self
    }

    /// How many queues `spec` is split into.
    pub fn partition_count(&self, spec: &QueueSpec) -> u16 {
        if spec.partitioned {
            self.partitions.max(1)
        } else {
            1
        }
    }

    /// The queues consumers subscribe to for `spec`: itself, or its partitions.
    pub fn consumed_queues(&self, spec: &QueueSpec) -> Vec<String> {
        match self.partition_count(spec) {
            1 => vec![spec.name.clone()],
            count => (0..count)
                .map(|p| partition_queue_name(&spec.name, p))
                .collect(),
        }
    }

    /// Where a message re-driven to `spec` is published.
    pub fn entry(&self, spec: &QueueSpec) -> Entry {
        match self.partition_count(spec) {
            1 => Entry {
                exchange: String::new(),
                routing_key: spec.name.clone(),
            },
            _ => Entry {
                exchange: partition_exchange_name(&spec.name),
                routing_key: spec.name.clone(),
            },
        }
    }

    pub fn with_queue(mut self, queue: QueueSpec) -> Self {
        self.queues.push(queue);
        self
    }

    pub fn queue(&self, name: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The declarations, as data. Every service declares all exchanges: publishers and
    /// consumers may start in any order.
    pub fn declarations(&self) -> Declarations {
        let mut exchanges_to_declare = vec![ExchangeDecl {
            name: UNROUTED.to_owned(),
            kind: "fanout",
            arguments: Vec::new(),
        }];
        exchanges_to_declare.extend(
            exchanges::DOMAIN_EXCHANGES
                .iter()
                .chain([&exchanges::REPLAY, &exchanges::COMMANDS])
                .map(|name| ExchangeDecl {
                    name: (*name).to_owned(),
                    kind: "topic",
                    arguments: vec![("alternate-exchange", Arg::Str(UNROUTED.to_owned()))],
                }),
        );

        let mut queues = vec![QueueDecl {
            name: UNROUTED.to_owned(),
            arguments: vec![
                ("x-queue-type", Arg::Str("classic".into())),
                ("x-max-length", Arg::Int(UNROUTED_MAX_LENGTH)),
            ],
        }];
        let mut bindings = vec![(
            UNROUTED.to_owned(),
            Binding {
                exchange: UNROUTED.to_owned(),
                routing_key: String::new(),
            },
        )];
        let mut exchange_bindings = Vec::new();
        for spec in &self.queues {
            if self.partition_count(spec) == 1 {
                queues.extend(self.queue_declarations(spec, &spec.name));
                bindings.extend(spec.bindings.iter().map(|b| (spec.name.clone(), b.clone())));
                continue;
            }
            let exchange = partition_exchange_name(&spec.name);
            exchanges_to_declare.push(ExchangeDecl {
                name: exchange.clone(),
                kind: CONSISTENT_HASH,
                arguments: vec![(
                    "hash-header",
                    Arg::Str(super::properties::PARTITION_KEY.to_owned()),
                )],
            });
            exchange_bindings.extend(spec.bindings.iter().map(|b| (exchange.clone(), b.clone())));
            for partition in self.consumed_queues(spec) {
                queues.extend(self.queue_declarations(spec, &partition));
                // The routing key of a consistent-hash binding is the partition's weight.
                bindings.push((
                    partition,
                    Binding {
                        exchange: exchange.clone(),
                        routing_key: "1".to_owned(),
                    },
                ));
            }
        }
        Declarations {
            exchanges: exchanges_to_declare,
            queues,
            bindings,
            exchange_bindings,
        }
    }

    /// The work queue `queue` (`spec` itself or one of its partitions), then, once per
    /// logical queue, its DLQ, then its delay queues.
    fn queue_declarations(&self, spec: &QueueSpec, queue: &str) -> Vec<QueueDecl> {
        let mut work_args = vec![
            ("x-dead-letter-exchange", Arg::Str(String::new())),
            ("x-dead-letter-routing-key", Arg::Str(spec.dlq())),
        ];
        match self.work_queue_type {
            WorkQueueType::Quorum => {
                work_args.insert(0, ("x-queue-type", Arg::Str("quorum".into())));
                work_args.push(("x-delivery-limit", Arg::Int(DELIVERY_LIMIT)));
            }
            WorkQueueType::Classic => {
                work_args.insert(0, ("x-queue-type", Arg::Str("classic".into())));
            }
        }
        if spec.single_active_consumer {
            work_args.push(("x-single-active-consumer", Arg::Bool(true)));
        }
        let mut decls = vec![QueueDecl {
            name: queue.to_owned(),
            arguments: work_args,
        }];
        let first = self
            .consumed_queues(spec)
            .first()
            .is_some_and(|q| q == queue);
        if first {
            decls.push(QueueDecl {
                name: spec.dlq(),
                arguments: vec![("x-queue-type", Arg::Str("classic".into()))],
            });
        }
        decls.extend(
            self.retry
                .distinct_delays()
                .into_iter()
                .map(|delay| QueueDecl {
                    name: retry_queue_name(queue, delay),
                    arguments: vec![
                        ("x-queue-type", Arg::Str("classic".into())),
                        ("x-message-ttl", Arg::Int(delay.as_millis() as i64)),
                        ("x-dead-letter-exchange", Arg::Str(String::new())),
                        ("x-dead-letter-routing-key", Arg::Str(queue.to_owned())),
                    ],
                }),
        );
        decls
    }

    /// Declares everything on the broker; idempotent, and run again after every reconnect.
    pub async fn declare(&self, channel: &Channel) -> lapin::Result<()> {
        self.declare_as(channel, None).await
    }

    /// Declares what `grant` may configure and only checks that the rest exists (a passive
    /// declare needs no permission): the exchanges of other services and of the operator are
    /// theirs to declare ([`permissions`](super::permissions)). A missing one fails the
    /// declaration, and the broker's reconnect loop tries again until its owner has made it.
    /// Without a grant (a user outside the table, such as a test's own), everything is declared.
    pub async fn declare_as(&self, channel: &Channel, grant: Option<&Grant>) -> lapin::Result<()> {
        let plan = self.declarations();
        let may_configure = |name: &str| grant.is_none_or(|g| g.may_configure(name));
        let durable_exchange = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let existing_exchange = ExchangeDeclareOptions {
            passive: true,
            ..durable_exchange
        };
        for exchange in &plan.exchanges {
            let kind = match exchange.kind {
                "fanout" => ExchangeKind::Fanout,
                "topic" => ExchangeKind::Topic,
                other => ExchangeKind::Custom(other.to_owned()),
            };
            let options = if may_configure(&exchange.name) {
                durable_exchange
            } else {
                existing_exchange
            };
            channel
                .exchange_declare(
                    exchange.name.as_str().into(),
                    kind,
                    options,
                    field_table(&exchange.arguments),
                )
                .await?;
        }
        let durable_queue = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        let existing_queue = QueueDeclareOptions {
            passive: true,
            ..durable_queue
        };
        for queue in &plan.queues {
            let options = if may_configure(&queue.name) {
                durable_queue
            } else {
                existing_queue
            };
            channel
                .queue_declare(
                    queue.name.as_str().into(),
                    options,
                    field_table(&queue.arguments),
                )
                .await?;
        }
        // Binding is part of setting up the queue: the owner of the queue does it.
        for (queue, binding) in plan.bindings.iter().filter(|(q, _)| may_configure(q)) {
            channel
                .queue_bind(
                    queue.as_str().into(),
                    binding.exchange.as_str().into(),
                    binding.routing_key.as_str().into(),
                    QueueBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        for (destination, binding) in plan
            .exchange_bindings
            .iter()
            .filter(|(x, _)| may_configure(x))
        {
            channel
                .exchange_bind(
                    destination.as_str().into(),
                    binding.exchange.as_str().into(),
                    binding.routing_key.as_str().into(),
                    ExchangeBindOptions::default(),
                    FieldTable::default(),
                )
                .await?;
        }
        Ok(())
    }
}

pub(crate) fn field_table(arguments: &[(&'static str, Arg)]) -> FieldTable {
    let mut table = FieldTable::default();
    for (key, value) in arguments {
        table.insert((*key).into(), value.to_amqp());
    }
    table
}

impl Arg {
    fn to_amqp(&self) -> AMQPValue {
        match self {
            Arg::Str(s) => AMQPValue::LongString(LongString::from(s.as_str())),
            Arg::Int(i) => AMQPValue::LongLongInt(*i),
            Arg::Bool(b) => AMQPValue::Boolean(*b),
        }
    }

    /// The argument as it appears in RabbitMQ's JSON definitions.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Arg::Str(s) => s.clone().into(),
            Arg::Int(i) => (*i).into(),
            Arg::Bool(b) => (*b).into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audit_topology() -> Topology {
        Topology::new(RetryPolicy::default())
            .with_queue(QueueSpec::new("audit-service.all-events").bind_all_domain_events())
    }

    #[test]
    fn every_work_queue_has_a_dlq_and_one_delay_queue_per_backoff_step() {
        let names: Vec<String> = audit_topology()
            .declarations()
            .queues
            .into_iter()
            .map(|q| q.name)
            .collect();
        assert_eq!(
            names,
            [
                UNROUTED,
                "audit-service.all-events",
                "audit-service.all-events.dlq",
                "audit-service.all-events.retry.1000ms",
                "audit-service.all-events.retry.2000ms",
                "audit-service.all-events.retry.4000ms",
                "audit-service.all-events.retry.8000ms",
            ]
        );
    }

    #[test]
    fn a_delay_queue_sends_expired_messages_back_to_its_work_queue_only() {
        let plan = audit_topology().declarations();
        let retry = plan
            .queues
            .iter()
            .find(|q| q.name.ends_with("retry.2000ms"))
            .expect("delay queue");
        assert!(retry
            .arguments
            .contains(&("x-dead-letter-exchange", Arg::Str(String::new()))));
        assert!(retry.arguments.contains(&(
            "x-dead-letter-routing-key",
            Arg::Str("audit-service.all-events".into())
        )));
        assert!(retry.arguments.contains(&("x-message-ttl", Arg::Int(2000))));
    }

    #[test]
    fn binding_all_domain_events_covers_the_five_exchanges() {
        let plan = audit_topology().declarations();
        let bound: Vec<&str> = plan
            .bindings
            .iter()
            .filter(|(q, _)| q == "audit-service.all-events")
            .map(|(_, b)| b.exchange.as_str())
            .collect();
        assert_eq!(bound, exchanges::DOMAIN_EXCHANGES);
    }

    #[test]
    fn the_commands_exchange_is_declared_but_not_bound_to_all_events() {
        let plan = audit_topology().declarations();
        assert!(plan
            .exchanges
            .iter()
            .any(|e| e.name == exchanges::COMMANDS && e.kind == "topic"));
        assert!(!plan
            .bindings
            .iter()
            .any(|(_, b)| b.exchange == exchanges::COMMANDS));
    }

    #[test]
    fn every_domain_exchange_keeps_unroutable_events() {
        let plan = audit_topology().declarations();
        let topic_exchanges: Vec<&ExchangeDecl> = plan
            .exchanges
            .iter()
            .filter(|e| e.kind == "topic")
            .collect();
        assert_eq!(topic_exchanges.len(), exchanges::DOMAIN_EXCHANGES.len() + 2);
        assert!(topic_exchanges.iter().all(|e| e
            .arguments
            .contains(&("alternate-exchange", Arg::Str(UNROUTED.into())))));
    }

    fn partitioned_audit_topology() -> Topology {
        audit_topology().with_partitions(3)
    }

    #[test]
    fn one_partition_is_the_plan_of_one_queue() {
        assert_eq!(
            audit_topology().with_partitions(1).declarations(),
            audit_topology().declarations()
        );
    }

    #[test]
    fn partitions_are_fed_by_a_consistent_hash_of_the_partition_key() {
        let plan = partitioned_audit_topology().declarations();
        let exchange = plan
            .exchanges
            .iter()
            .find(|e| e.name == "audit-service.all-events.partitions")
            .expect("partition exchange");
        assert_eq!(exchange.kind, CONSISTENT_HASH);
        assert!(exchange.arguments.contains(&(
            "hash-header",
            Arg::Str(super::super::properties::PARTITION_KEY.into())
        )));
        let fed: Vec<&str> = plan
            .bindings
            .iter()
            .filter(|(_, b)| b.exchange == exchange.name)
            .map(|(q, _)| q.as_str())
            .collect();
        assert_eq!(
            fed,
            [
                "audit-service.all-events.p0",
                "audit-service.all-events.p1",
                "audit-service.all-events.p2"
            ]
        );
        let sources: Vec<&str> = plan
            .exchange_bindings
            .iter()
            .filter(|(x, _)| *x == exchange.name)
            .map(|(_, b)| b.exchange.as_str())
            .collect();
        assert_eq!(sources, exchanges::DOMAIN_EXCHANGES);
        assert!(
            !plan
                .bindings
                .iter()
                .any(|(q, _)| q == "audit-service.all-events"),
            "the logical queue itself is not declared"
        );
    }

    #[test]
    fn a_partition_retries_into_itself_and_dead_letters_into_the_one_dlq() {
        let plan = partitioned_audit_topology().declarations();
        let partition = plan
            .queues
            .iter()
            .find(|q| q.name == "audit-service.all-events.p1")
            .expect("partition");
        assert!(partition.arguments.contains(&(
            "x-dead-letter-routing-key",
            Arg::Str("audit-service.all-events.dlq".into())
        )));
        assert!(partition
            .arguments
            .contains(&("x-single-active-consumer", Arg::Bool(true))));
        let retry = plan
            .queues
            .iter()
            .find(|q| q.name == "audit-service.all-events.p1.retry.2000ms")
            .expect("the partition's delay queue");
        assert!(retry.arguments.contains(&(
            "x-dead-letter-routing-key",
            Arg::Str("audit-service.all-events.p1".into())
        )));
        let dlqs = plan
            .queues
            .iter()
            .filter(|q| q.name.ends_with(".dlq"))
            .count();
        assert_eq!(dlqs, 1);
    }

    #[test]
    fn an_unpartitioned_queue_keeps_one_queue_and_is_redriven_through_the_default_exchange() {
        let topology = Topology::new(RetryPolicy::default())
            .with_queue(QueueSpec::new("complaint-service.commands").unpartitioned())
            .with_partitions(4);
        let spec = topology.queue("complaint-service.commands").unwrap();
        assert_eq!(
            topology.consumed_queues(spec),
            ["complaint-service.commands"]
        );
        assert_eq!(topology.entry(spec).exchange, "");
        let partitioned = partitioned_audit_topology();
        let spec = partitioned.queue("audit-service.all-events").unwrap();
        assert_eq!(
            partitioned.entry(spec).exchange,
            "audit-service.all-events.partitions"
        );
    }
}
