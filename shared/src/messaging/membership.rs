//! How many instances consume a partitioned queue, and which of them this one is, counted on
//! the broker itself: no table, no extra server, and a dead instance drops out by itself.
//!
//! Each instance holds one *slot*, an exclusive queue `Q.member.<k>`. RabbitMQ deletes an
//! exclusive queue when the connection that declared it closes, so a slot is held exactly as
//! long as its instance is connected (a crash or a network cut frees it within the heartbeat
//! timeout). Another connection cannot declare it, and a passive declare of it answers 405
//! RESOURCE_LOCKED where a free slot answers 404 NOT_FOUND: that is how slots are probed,
//! without touching them.
//!
//! An instance takes the lowest free slot and moves down whenever a lower one frees, so the
//! held slots settle on 0..N: its slot is its rank and the first free slot above it is N. While
//! instances come and go two of them may briefly disagree; the partitions' single active
//! consumer keeps that safe (never two active consumers on one partition), and the next look
//! settles it.

use lapin::{
    options::{QueueDeclareOptions, QueueDeleteOptions},
    protocol::AMQPErrorKind,
    types::{AMQPValue, FieldTable, LongString},
    Connection,
};
use std::time::Duration;

/// How often an instance looks at the membership. A dead instance's partitions wait up to this
/// long (after RabbitMQ noticed the death) before a survivor takes them.
pub const LOOK_EVERY: Duration = Duration::from_secs(2);

/// Instances one partitioned queue can count; more would wait for a slot.
pub const MAX_MEMBERS: u16 = 64;

/// This instance's place among the live ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct View {
    /// 0-based; `members` when this instance holds no slot (it then owns nothing).
    pub rank: u16,
    pub members: u16,
}

impl View {
    /// Partitions are dealt out round-robin by rank: each of N instances owns P/N of them,
    /// give or take one.
    pub fn owns(&self, partition: u16) -> bool {
        self.rank < self.members && partition % self.members == self.rank
    }
}

pub fn slot_name(queue: &str, slot: u16) -> String {
    format!("{queue}.member.{slot}")
}

/// One instance's membership of one partitioned queue, on one connection.
pub struct Membership {
    queue: String,
    slot: Option<u16>,
}

enum Slot {
    Free,
    Held,
}

impl Membership {
    pub fn new(queue: &str) -> Self {
        Self {
            queue: queue.to_owned(),
            slot: None,
        }
    }

    /// Takes (or lowers) this instance's slot and counts the live members.
    pub async fn look(&mut self, connection: &Connection) -> lapin::Result<View> {
        let mine = match self.slot {
            Some(slot) => slot,
            None => match self.claim_lowest(connection, MAX_MEMBERS).await? {
                Some(slot) => slot,
                None => {
                    tracing::warn!(queue = %self.queue, "every membership slot is taken; consuming nothing");
                    return Ok(View {
                        rank: MAX_MEMBERS,
                        members: MAX_MEMBERS,
                    });
                }
            },
        };
        self.slot = Some(mine);
        if let Some(lower) = self.claim_lowest(connection, mine).await? {
            self.release(connection, mine).await;
            self.slot = Some(lower);
        }
        let rank = self.slot.unwrap_or(mine);
        let mut members = rank + 1;
        while members < MAX_MEMBERS {
            match self.probe(connection, members).await? {
                Slot::Held => members += 1,
                Slot::Free => break,
            }
        }
        Ok(View { rank, members })
    }

    /// Claims the lowest free slot below `limit`.
    async fn claim_lowest(
        &self,
        connection: &Connection,
        limit: u16,
    ) -> lapin::Result<Option<u16>> {
        for slot in 0..limit {
            if let Slot::Free = self.probe(connection, slot).await? {
                if self.claim(connection, slot).await? {
                    return Ok(Some(slot));
                }
            }
        }
        Ok(None)
    }

    async fn probe(&self, connection: &Connection, slot: u16) -> lapin::Result<Slot> {
        let channel = connection.create_channel().await?;
        let options = QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        };
        match channel
            .queue_declare(
                slot_name(&self.queue, slot).as_str().into(),
                options,
                FieldTable::default(),
            )
            .await
        {
            Ok(_) => {
                // Our own slot: declared on this connection.
                let _ = channel.close(200, "probed".into()).await;
                Ok(Slot::Held)
            }
            Err(error) => match refusal(&error) {
                Some(404) => Ok(Slot::Free),
                Some(405) => Ok(Slot::Held),
                _ => Err(error),
            },
        }
    }

    /// Declares the slot exclusive to this connection; `false` if another took it first.
    async fn claim(&self, connection: &Connection, slot: u16) -> lapin::Result<bool> {
        let channel = connection.create_channel().await?;
        let options = QueueDeclareOptions {
            exclusive: true,
            ..QueueDeclareOptions::default()
        };
        let mut arguments = FieldTable::default();
        arguments.insert(
            "x-queue-type".into(),
            AMQPValue::LongString(LongString::from("classic")),
        );
        match channel
            .queue_declare(
                slot_name(&self.queue, slot).as_str().into(),
                options,
                arguments,
            )
            .await
        {
            Ok(_) => {
                let _ = channel.close(200, "claimed".into()).await;
                Ok(true)
            }
            Err(error) if refusal(&error) == Some(405) => Ok(false),
            Err(error) => Err(error),
        }
    }

    async fn release(&self, connection: &Connection, slot: u16) {
        let Ok(channel) = connection.create_channel().await else {
            return;
        };
        let _ = channel
            .queue_delete(
                slot_name(&self.queue, slot).as_str().into(),
                QueueDeleteOptions::default(),
            )
            .await;
        let _ = channel.close(200, "released".into()).await;
    }
}

/// The reply code of a channel-level refusal by the broker.
fn refusal(error: &lapin::Error) -> Option<u16> {
    match error.kind() {
        lapin::ErrorKind::ProtocolError(amqp) if matches!(amqp.kind(), AMQPErrorKind::Soft(_)) => {
            Some(amqp.get_id())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(view: View, partitions: u16) -> Vec<u16> {
        (0..partitions).filter(|p| view.owns(*p)).collect()
    }

    #[test]
    fn partitions_are_dealt_out_by_rank() {
        let alone = View {
            rank: 0,
            members: 1,
        };
        assert_eq!(owned(alone, 4), [0, 1, 2, 3]);
        let second_of_two = View {
            rank: 1,
            members: 2,
        };
        assert_eq!(owned(second_of_two, 4), [1, 3]);
        let shares: Vec<usize> = (0..3)
            .map(|rank| owned(View { rank, members: 3 }, 4).len())
            .collect();
        assert_eq!(shares, [2, 1, 1]);
    }

    #[test]
    fn an_instance_without_a_slot_owns_nothing() {
        let waiting = View {
            rank: MAX_MEMBERS,
            members: MAX_MEMBERS,
        };
        assert_eq!(owned(waiting, 4), Vec::<u16>::new());
    }
}
