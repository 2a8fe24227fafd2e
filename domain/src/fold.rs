//! The one fold: the recorded events of a complaint's stream, in version order, into its
//! state. Every reader of a stream (command handling, the read model, the event store's state,
//! notification-service's view) goes through [`Complaint::apply`] or [`Complaint::fold`], so
//! they all say the same state and the same version for the same stream.

use chrono::{DateTime, Utc};

use crate::{event::ComplaintEvent, evolve::evolve, state::Complaint};

/// One event of a complaint's stream as the fold reads it; the reader decodes it from its
/// row, document or envelope first.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    /// Its place in the stream (`metadata.version`): the complaint's version after it.
    pub version: i64,
    /// When it was recorded; the state's timestamps come from it.
    pub at: DateTime<Utc>,
    /// The event, or `None` when its type is not a complaint event this build knows (written
    /// by a newer version of the suite).
    pub event: Option<ComplaintEvent>,
}

impl Complaint {
    /// Whether the event at `version` of the stream is already folded into this state.
    pub fn has_applied(&self, version: i64) -> bool {
        version <= self.version
    }

    /// The state after one more recorded event. The rules, the same for every reader:
    /// - an event at or below the state's version is in it already (a replay, a redelivered
    ///   message): nothing changes;
    /// - an event of a type this build does not know counts for the version and changes
    ///   nothing else, so the next event is decided at the version after it (an append does
    ///   not collide with it) and every reader reports the version the stream has;
    /// - any other event is [`evolve`]d at the time it was recorded.
    ///
    /// The version is the stream's, not a count of the events this reader was shown.
    pub fn apply(self, recorded: &Recorded) -> Self {
        if self.has_applied(recorded.version) {
            return self;
        }
        let mut state = match &recorded.event {
            Some(event) => evolve(self, event, recorded.at),
            None => self,
        };
        state.version = recorded.version;
        state
    }

    /// This state after the events that follow it (a whole stream from
    /// [`Complaint::empty`], or the tail after a snapshot), each [`apply`](Self::apply)ed in
    /// turn. An event the reader could not decode (`Err`) stops the fold: a state built
    /// without it would be wrong.
    pub fn fold<E>(self, stream: impl IntoIterator<Item = Result<Recorded, E>>) -> Result<Self, E> {
        stream
            .into_iter()
            .try_fold(self, |state, recorded| Ok(state.apply(&recorded?)))
    }
}
