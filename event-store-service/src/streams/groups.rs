//! Consumer groups on the domain streams and replay targets: how a client replays with
//! at-least-once delivery. It reads with XREADGROUP (entries become pending for it), acks
//! with XACK once handled, and a live consumer claims what a dead one left pending with
//! XAUTOCLAIM.

use super::{Entry, RedisStreams};
use crate::error::{Error, Result};
use redis::{
    streams::{
        StreamAutoClaimOptions, StreamAutoClaimReply, StreamInfoGroupsReply, StreamPendingReply,
        StreamReadOptions, StreamReadReply,
    },
    AsyncConnectionConfig, RedisError,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::ToSchema;

/// What XAUTOCLAIM moved to the claiming consumer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Claimed {
    pub entries: Vec<Entry>,
    /// Where the next claim should start (`0-0` once the whole pending list was scanned).
    pub next_start: String,
    /// Pending ids whose entries were trimmed from the stream (and so removed from the list).
    pub deleted: Vec<String>,
}

/// The pending entries of a group: delivered, not acknowledged yet.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Pending {
    pub count: usize,
    pub consumers: Vec<PendingConsumer>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingConsumer {
    pub name: String,
    pub pending: usize,
}

impl RedisStreams {
    /// Creates group `group` on `stream` starting at `start`; `false` if it already existed.
    pub async fn create_group(&self, stream: &str, group: &str, start: &str) -> Result<bool> {
        let mut connection = self.connection.clone();
        let created: redis::RedisResult<()> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(self.key(stream))
            .arg(group)
            .arg(start)
            .arg("MKSTREAM")
            .query_async(&mut connection)
            .await;
        match created {
            Ok(()) => Ok(true),
            Err(error) if error.code() == Some("BUSYGROUP") => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Up to `count` entries never delivered to `group`, for `consumer`, waiting up to `block`
    /// for some to arrive. A group read for the first time is created at the stream's start.
    pub async fn read_group(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        count: usize,
        block: Duration,
    ) -> Result<Vec<Entry>> {
        let mut options = StreamReadOptions::default()
            .group(group, consumer)
            .count(count);
        if !block.is_zero() {
            options = options.block(block.as_millis() as usize);
        }
        let key = self.key(stream);
        let reply = match self.xreadgroup(&key, &options, block).await {
            Err(error) if error.code() == Some("NOGROUP") => {
                self.create_group(stream, group, "0").await?;
                self.xreadgroup(&key, &options, block).await?
            }
            other => other?,
        };
        Ok(reply
            .keys
            .iter()
            .flat_map(|k| k.ids.iter().map(Entry::from))
            .collect())
    }

    /// A blocking read gets a connection of its own: on the shared, multiplexed one it would
    /// hold up every other command (the mirror's XADDs) for as long as it blocks.
    async fn xreadgroup(
        &self,
        key: &str,
        options: &StreamReadOptions,
        block: Duration,
    ) -> Result<StreamReadReply, RedisError> {
        let command = redis::cmd("XREADGROUP")
            .arg(options)
            .arg("STREAMS")
            .arg(key)
            .arg(">")
            .take();
        let reply: Option<StreamReadReply> = if block.is_zero() {
            command.query_async(&mut self.connection.clone()).await?
        } else {
            let config = AsyncConnectionConfig::new()
                .set_response_timeout(Some(block + Duration::from_secs(5)));
            let mut connection = self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            command.query_async(&mut connection).await?
        };
        Ok(reply.unwrap_or_default())
    }

    /// Acknowledges `ids` for `group`; returns how many were pending.
    pub async fn ack(&self, stream: &str, group: &str, ids: &[String]) -> Result<u64> {
        self.ensure_group(stream, group).await?;
        let mut connection = self.connection.clone();
        Ok(redis::cmd("XACK")
            .arg(self.key(stream))
            .arg(group)
            .arg(ids)
            .query_async(&mut connection)
            .await?)
    }

    /// Moves to `consumer` up to `count` entries pending for longer than `min_idle` (their
    /// consumer is presumed dead), scanning the pending list from `start`.
    pub async fn claim(
        &self,
        stream: &str,
        group: &str,
        consumer: &str,
        min_idle: Duration,
        start: &str,
        count: usize,
    ) -> Result<Claimed> {
        self.ensure_group(stream, group).await?;
        let mut connection = self.connection.clone();
        let reply: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
            .arg(self.key(stream))
            .arg(group)
            .arg(consumer)
            .arg(min_idle.as_millis() as u64)
            .arg(start)
            .arg(StreamAutoClaimOptions::default().count(count))
            .query_async(&mut connection)
            .await?;
        Ok(Claimed {
            entries: reply.claimed.iter().map(Entry::from).collect(),
            next_start: reply.next_stream_id,
            deleted: reply.deleted_ids,
        })
    }

    /// How many entries are pending in `group`, per consumer.
    pub async fn pending(&self, stream: &str, group: &str) -> Result<Pending> {
        self.ensure_group(stream, group).await?;
        let mut connection = self.connection.clone();
        let reply: StreamPendingReply = redis::cmd("XPENDING")
            .arg(self.key(stream))
            .arg(group)
            .query_async(&mut connection)
            .await?;
        Ok(match reply {
            StreamPendingReply::Data(data) => Pending {
                count: data.count,
                consumers: data
                    .consumers
                    .into_iter()
                    .map(|c| PendingConsumer {
                        name: c.name,
                        pending: c.pending,
                    })
                    .collect(),
            },
            _ => Pending {
                count: 0,
                consumers: Vec::new(),
            },
        })
    }

    /// A 404 for operations on a group that does not exist (XACK would quietly answer 0).
    async fn ensure_group(&self, stream: &str, group: &str) -> Result<()> {
        let mut connection = self.connection.clone();
        let groups: redis::RedisResult<StreamInfoGroupsReply> = redis::cmd("XINFO")
            .arg("GROUPS")
            .arg(self.key(stream))
            .query_async(&mut connection)
            .await;
        let exists = match groups {
            Ok(reply) => reply.groups.iter().any(|g| g.name == group),
            // XINFO on a missing key is an error, not an empty list.
            Err(error) if error.to_string().contains("no such key") => false,
            Err(error) => return Err(error.into()),
        };
        if exists {
            Ok(())
        } else {
            Err(Error::NotFound(format!(
                "stream {stream:?} has no consumer group {group:?}"
            )))
        }
    }
}
