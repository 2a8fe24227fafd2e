//! How much waits in each of a service's queues: messages ready in the work queue, and in its
//! dead-letter queue. Read with passive declares, which leave the queues untouched.

use super::{
    broker::Broker,
    dead_letters::{message_count, DeadLetterError},
    topology::dlq_name,
};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueDepth {
    pub queue: String,
    pub dead_letter_queue: String,
    /// Ready in the work queue, or in all its partitions (not yet delivered to a consumer).
    pub ready: u32,
    pub dead_letters: u32,
}

impl Broker {
    /// Every work queue of this service with its depth and its DLQ's.
    pub async fn queue_depths(&self) -> Result<Vec<QueueDepth>, DeadLetterError> {
        let channel = self.operator_channel().await?;
        let mut depths = Vec::new();
        for spec in &self.topology().queues {
            let dlq = dlq_name(&spec.name);
            let mut ready = 0;
            for queue in self.topology().consumed_queues(spec) {
                ready += message_count(&channel, &queue).await?;
            }
            depths.push(QueueDepth {
                ready,
                dead_letters: message_count(&channel, &dlq).await?,
                queue: spec.name.clone(),
                dead_letter_queue: dlq,
            });
        }
        let _ = channel.close(200, "measured".into()).await;
        Ok(depths)
    }
}
