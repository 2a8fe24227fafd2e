//! Snapshots of the state, so that a long stream is not folded from its first event every
//! time: a [`Complaint`] saved at some version, plus the events after it, is the same
//! complaint as the whole stream folded (the property test in `tests/snapshots.rs`).
//!
//! A snapshot is only as good as the code that wrote it: it holds [`Complaint`] as that code
//! serialized it. [`STATE_VERSION`] names the shape and meaning of the state; a snapshot of
//! another state version is ignored (and a new one is written from the events), never read.
//! Pure: where snapshots are kept is the services' business.

use serde::Deserialize;
use serde_json::Value;

use super::Complaint;

/// The version of [`Complaint`]'s shape and meaning. Bump it whenever a field is added,
/// removed or renamed, or `evolve` starts to compute one differently: snapshots written before
/// are then ignored and rebuilt from the events.
pub const STATE_VERSION: i32 = 1;

/// The state as a snapshot stores it.
pub fn encode(state: &Complaint) -> Value {
    // Cannot fail: the state is plain strings, numbers, options and timestamps.
    serde_json::to_value(state).expect("the complaint state is plain JSON")
}

/// The state a snapshot holds, if it was written by this state version and still reads as a
/// [`Complaint`]; `None` means "fold from the first event instead".
pub fn decode(state_version: i32, state: &Value) -> Option<Complaint> {
    if state_version != STATE_VERSION {
        return None;
    }
    Complaint::deserialize(state).ok()
}

/// Whether a snapshot of a state at `version` is due, when the last one covers `covered`
/// (0 for none) and one is taken every `every` events (0: never).
pub fn is_due(every: u32, covered: i64, version: i64) -> bool {
    every > 0 && version - covered >= i64::from(every)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_of_another_state_version_is_not_read() {
        let state = Complaint::empty("c-1");
        let stored = encode(&state);
        assert_eq!(decode(STATE_VERSION, &stored), Some(state));
        assert_eq!(decode(STATE_VERSION - 1, &stored), None);
        assert_eq!(decode(STATE_VERSION, &serde_json::json!({ "id": 7 })), None);
    }

    #[test]
    fn snapshots_fall_due_every_n_events() {
        assert!(!is_due(100, 0, 99));
        assert!(is_due(100, 0, 100));
        assert!(is_due(100, 0, 150), "a stream longer than N without one");
        assert!(!is_due(100, 100, 199));
        assert!(is_due(100, 100, 200));
        assert!(!is_due(0, 0, 1_000_000), "0 turns snapshots off");
    }
}
