//! The hash chain that makes the trail tamper-evident.
//!
//! - `content_hash` = SHA-256 of the entry's canonical content: the JSON object
//!   ```text
//!   {"actor":…,"aggregateId":…,"aggregateType":…,"aggregateVersion":…,"causationId":…,
//!    "correlationId":…,"eventId":…,"eventType":…,"occurredAt":…,"payload":…,
//!    "recordedAt":…,"sequence":…,"service":…}
//!   ```
//!   written as canonical JSON by the entry's hash scheme ([`HashScheme`]; entries written
//!   today use RFC 8785, JCS, so any JCS library recomputes it), where
//!   `eventId` is the lower-case hyphenated UUID, `occurredAt` and `recordedAt` are UTC
//!   timestamps with exactly six fractional digits (`2024-05-01T10:00:00.123456Z`), a missing
//!   `actor` or `causationId` is `null`, and `payload` is the event's data.
//! - `chain_hash` = SHA-256 of the previous entry's `chain_hash` (32 bytes; 32 zero bytes
//!   before the first entry) followed by this entry's `content_hash` (32 bytes).
//!
//! Changing any stored field of an entry changes its content hash; removing an entry breaks
//! the link of the one after it. An attacker able to rewrite every later hash (and the chain
//! head) is not stopped by this: publishing the head hash elsewhere from time to time would be.

use crate::{canonical_json, entry::EntryContent};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// What the first entry links to.
pub const GENESIS: Digest = [0; 32];

/// How an entry's content was made canonical before it was hashed, stored with each entry so
/// that a change of scheme never breaks the entries written before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashScheme {
    /// The first scheme: serde_json's number forms, keys in UTF-8 byte order.
    Legacy = 1,
    /// RFC 8785, the JSON Canonicalization Scheme.
    Jcs = 2,
}

impl HashScheme {
    /// The scheme new entries are written with.
    pub const CURRENT: Self = Self::Jcs;

    /// The scheme stored as `number`, if it is one this code knows.
    pub fn from_number(number: i16) -> Option<Self> {
        match number {
            1 => Some(Self::Legacy),
            2 => Some(Self::Jcs),
            _ => None,
        }
    }

    pub fn number(self) -> i16 {
        self as i16
    }
}

/// The hash of an entry's content under `scheme`.
pub fn content_hash(content: &EntryContent, scheme: HashScheme) -> Digest {
    Sha256::digest(canonical_content(content, scheme).as_bytes()).into()
}

/// The chain hash of an entry whose content hash is `content` after an entry whose chain
/// hash is `previous`.
pub fn chain_hash(previous: &Digest, content: &Digest) -> Digest {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(content);
    hasher.finalize().into()
}

/// The exact text `content_hash` is computed over.
pub fn canonical_content(content: &EntryContent, scheme: HashScheme) -> String {
    let document: Value = json!({
        "actor": content.actor,
        "aggregateId": content.aggregate_id,
        "aggregateType": content.aggregate_type,
        "aggregateVersion": content.aggregate_version,
        "causationId": content.causation_id,
        "correlationId": content.correlation_id,
        "eventId": content.event_id.hyphenated().to_string(),
        "eventType": content.event_type,
        "occurredAt": timestamp(content.occurred_at),
        "payload": content.payload,
        "recordedAt": timestamp(content.recorded_at),
        "sequence": content.sequence,
        "service": content.service,
    });
    match scheme {
        HashScheme::Legacy => canonical_json::to_legacy_string(&document),
        HashScheme::Jcs => canonical_json::to_jcs_string(&document),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Digests as stored (BYTEA) into fixed-size digests; `None` if the length is wrong.
pub fn digest_of(bytes: &[u8]) -> Option<Digest> {
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn entry() -> EntryContent {
        EntryContent {
            sequence: 7,
            event_id: Uuid::parse_str("0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f70").unwrap(),
            event_type: "COMPLAINT_CREATED".into(),
            aggregate_type: "Complaint".into(),
            aggregate_id: "c-1".into(),
            aggregate_version: 1,
            actor: None,
            service: "complaint-service".into(),
            correlation_id: "req-1".into(),
            causation_id: Some("cmd-1".into()),
            occurred_at: "2024-05-01T10:00:00.5Z".parse().unwrap(),
            recorded_at: "2024-05-01T10:00:01Z".parse().unwrap(),
            payload: json!({ "title": "Broken", "priority": "HIGH" }),
        }
    }

    #[test]
    fn the_canonical_content_is_exactly_as_documented() {
        assert_eq!(
            canonical_content(&entry(), HashScheme::Jcs),
            concat!(
                r#"{"actor":null,"aggregateId":"c-1","aggregateType":"Complaint","#,
                r#""aggregateVersion":1,"causationId":"cmd-1","correlationId":"req-1","#,
                r#""eventId":"0190a6f2-7c3e-7b1a-9a4e-3f1c2d5e6f70","eventType":"COMPLAINT_CREATED","#,
                r#""occurredAt":"2024-05-01T10:00:00.500000Z","#,
                r#""payload":{"priority":"HIGH","title":"Broken"},"#,
                r#""recordedAt":"2024-05-01T10:00:01.000000Z","sequence":7,"#,
                r#""service":"complaint-service"}"#
            )
        );
    }

    #[test]
    fn the_content_hash_is_the_sha256_of_the_canonical_content() {
        for scheme in [HashScheme::Legacy, HashScheme::Jcs] {
            let expected: Digest =
                Sha256::digest(canonical_content(&entry(), scheme).as_bytes()).into();
            assert_eq!(content_hash(&entry(), scheme), expected);
        }
    }

    /// A hash written under the first scheme still verifies under it, and the two schemes
    /// differ only where serde_json and RFC 8785 write a number or order keys differently.
    #[test]
    fn each_scheme_keeps_its_own_hash() {
        let mut with_decimal = entry();
        with_decimal.payload = json!({ "amount": 10.0, "title": "Broken" });
        assert_ne!(
            content_hash(&with_decimal, HashScheme::Legacy),
            content_hash(&with_decimal, HashScheme::Jcs)
        );
        assert!(canonical_content(&with_decimal, HashScheme::Legacy).contains(r#""amount":10.0"#));
        assert!(canonical_content(&with_decimal, HashScheme::Jcs).contains(r#""amount":10,"#));
        assert_eq!(
            content_hash(&entry(), HashScheme::Legacy),
            content_hash(&entry(), HashScheme::Jcs),
            "no number or non-BMP key: both forms are the same text"
        );
    }

    #[test]
    fn schemes_are_stored_as_small_numbers() {
        for scheme in [HashScheme::Legacy, HashScheme::Jcs] {
            assert_eq!(HashScheme::from_number(scheme.number()), Some(scheme));
        }
        assert_eq!(HashScheme::from_number(3), None);
        assert_eq!(HashScheme::CURRENT, HashScheme::Jcs);
    }

    #[test]
    fn any_change_of_any_field_changes_the_content_hash() {
        let original = content_hash(&entry(), HashScheme::CURRENT);
        let changes: [fn(&mut EntryContent); 8] = [
            |e| e.sequence += 1,
            |e| e.event_type = "COMPLAINT_CLOSED".into(),
            |e| e.actor = Some("mallory".into()),
            |e| e.causation_id = None,
            |e| e.occurred_at += chrono::TimeDelta::microseconds(1),
            |e| e.recorded_at += chrono::TimeDelta::seconds(1),
            |e| e.payload["priority"] = json!("LOW"),
            |e| e.service = "other".into(),
        ];
        for change in changes {
            let mut altered = entry();
            change(&mut altered);
            assert_ne!(
                content_hash(&altered, HashScheme::CURRENT),
                original,
                "{altered:?}"
            );
        }
    }

    #[test]
    fn the_key_order_of_the_payload_does_not_matter() {
        let mut reordered = entry();
        reordered.payload =
            serde_json::from_str(r#"{"title":"Broken","priority":"HIGH"}"#).unwrap();
        assert_eq!(
            content_hash(&reordered, HashScheme::CURRENT),
            content_hash(&entry(), HashScheme::CURRENT)
        );
    }

    #[test]
    fn each_link_depends_on_the_previous_one() {
        let content = content_hash(&entry(), HashScheme::CURRENT);
        let first = chain_hash(&GENESIS, &content);
        let second = chain_hash(&first, &content);
        assert_ne!(first, second);
        let mut expected = Sha256::new();
        expected.update([0u8; 32]);
        expected.update(content);
        assert_eq!(first, <Digest>::from(expected.finalize()));
    }

    #[test]
    fn stored_digests_must_be_32_bytes() {
        assert_eq!(digest_of(&[1; 32]), Some([1; 32]));
        assert_eq!(digest_of(&[1; 31]), None);
    }
}
