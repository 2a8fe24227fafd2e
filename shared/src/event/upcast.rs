//! Event schema evolution: the one chain of upcasters every reader goes through.
//!
//! An event's `eventData` has the shape of its type at `metadata.schemaVersion` (absent means
//! 1). Writers always write the latest version ([`latest_version`]); stored events are never
//! rewritten, so a reader may meet any older version. Before decoding, a reader passes the data
//! through [`upcast`], which applies the steps below one after the other (1 → 2 → … → latest),
//! so decoding code only ever sees the latest shape. A version above the latest this build
//! knows (an event written by newer code) is refused with [`UpcastError::UnknownVersion`]:
//! the reader dead-letters it rather than half-read it.
//!
//! To add a version: write the step `fn <type>_v<n>_to_v<n+1>(Value) -> Result<Value, String>`,
//! append it to [`STEPS`], change the data struct to the new shape, and test the step on a
//! literal document of the old version (ARCHITECTURE.md, "Event schema versions").

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::catalogue::EventType;

/// One step of the chain: `event_type`'s data from schema version `from` to `from + 1`.
struct Step {
    event_type: EventType,
    from: u32,
    apply: fn(Value) -> Result<Value, String>,
}

/// Every step, per type in version order. The latest version of a type is one more than the
/// number of its steps.
const STEPS: &[Step] = &[Step {
    event_type: EventType::ComplaintCreated,
    from: 1,
    apply: complaint_created_v1_to_v2,
}];

/// Data of this type and version cannot be read as the latest version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpcastError {
    #[error(
        "{event_type} schema version {version} is unknown to this reader \
         (it reads versions 1 to {latest})"
    )]
    UnknownVersion {
        event_type: EventType,
        version: u32,
        latest: u32,
    },
    #[error("{event_type} data of schema version {from} cannot be upcast: {reason}")]
    Malformed {
        event_type: EventType,
        from: u32,
        reason: String,
    },
}

/// The schema version this build writes for `event_type`, and the one [`upcast`] returns.
pub fn latest_version(event_type: EventType) -> u32 {
    let steps = STEPS.iter().filter(|s| s.event_type == event_type).count();
    1 + u32::try_from(steps).unwrap_or(u32::MAX - 1)
}

/// `data`, written at schema `version` of `event_type`, in the latest version's shape.
/// Borrowed when it already is the latest version (the common case costs nothing).
pub fn upcast(
    event_type: EventType,
    version: u32,
    data: &Value,
) -> Result<Cow<'_, Value>, UpcastError> {
    let latest = latest_version(event_type);
    if version == 0 || version > latest {
        return Err(UpcastError::UnknownVersion {
            event_type,
            version,
            latest,
        });
    }
    if version == latest {
        return Ok(Cow::Borrowed(data));
    }
    let mut data = data.clone();
    for from in version..latest {
        let step = STEPS
            .iter()
            .find(|s| s.event_type == event_type && s.from == from)
            .ok_or(UpcastError::UnknownVersion {
                event_type,
                version,
                latest,
            })?;
        data = (step.apply)(data).map_err(|reason| UpcastError::Malformed {
            event_type,
            from,
            reason,
        })?;
    }
    Ok(Cow::Owned(data))
}

/// `COMPLAINT_CREATED` 1 → 2: the customer's e-mail moves into a structured `contact`.
/// v1 `customer: {id, name, email}` becomes v2 `customer: {id, name, contact: {email}}`.
fn complaint_created_v1_to_v2(mut data: Value) -> Result<Value, String> {
    let customer = data
        .get_mut("customer")
        .and_then(Value::as_object_mut)
        .ok_or("`customer` is not an object")?;
    let email = customer
        .remove("email")
        .ok_or("`customer.email` is missing")?;
    let mut contact = Map::new();
    contact.insert("email".to_owned(), email);
    customer.insert("contact".to_owned(), Value::Object(contact));
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn created_v1() -> Value {
        json!({
            "title": "Charged twice", "description": "Two debits", "category": "billing",
            "priority": "LOW", "slaDeadline": "2024-05-08T10:00:00Z",
            "customer": { "id": "c-1", "name": "Ada", "email": "ada@example.com" }
        })
    }

    #[test]
    fn complaint_created_v1_gets_a_structured_contact() {
        let v1 = created_v1();
        let upcast = upcast(EventType::ComplaintCreated, 1, &v1).unwrap();
        let mut expected = created_v1();
        expected["customer"] = json!({
            "id": "c-1", "name": "Ada", "contact": { "email": "ada@example.com" }
        });
        assert_eq!(upcast.into_owned(), expected);
    }

    #[test]
    fn the_latest_version_is_passed_through_untouched() {
        let data = json!({ "anything": 1 });
        assert!(matches!(
            upcast(EventType::ComplaintCreated, 2, &data).unwrap(),
            Cow::Borrowed(_)
        ));
        assert!(matches!(
            upcast(EventType::ComplaintAssigned, 1, &data).unwrap(),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn latest_versions_count_the_steps() {
        assert_eq!(latest_version(EventType::ComplaintCreated), 2);
        assert_eq!(latest_version(EventType::ComplaintAssigned), 1);
    }

    #[test]
    fn a_version_from_newer_code_is_refused_with_a_clear_reason() {
        let error = upcast(EventType::ComplaintCreated, 3, &created_v1()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "COMPLAINT_CREATED schema version 3 is unknown to this reader (it reads versions 1 to 2)"
        );
        assert!(matches!(
            upcast(EventType::ComplaintAssigned, 2, &json!({})),
            Err(UpcastError::UnknownVersion { latest: 1, .. })
        ));
        assert!(upcast(EventType::ComplaintAssigned, 0, &json!({})).is_err());
    }

    #[test]
    fn v1_data_without_the_fields_a_step_moves_is_malformed() {
        let error = upcast(
            EventType::ComplaintCreated,
            1,
            &json!({ "customer": "Ada" }),
        )
        .unwrap_err();
        assert!(matches!(error, UpcastError::Malformed { from: 1, .. }));
        assert!(error.to_string().contains("`customer` is not an object"));
    }
}
