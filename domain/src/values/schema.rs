//! The OpenAPI schemas of the string values (the `openapi` feature): what the API documents
//! is what `parse` accepts.

use std::ops::RangeInclusive;

use utoipa::openapi::{
    schema::{ObjectBuilder, Schema, Type},
    RefOr,
};

/// A string schema with the type's length limits, then `refine`d (pattern, format, example).
pub(super) fn string_schema(
    chars: RangeInclusive<usize>,
    refine: impl FnOnce(ObjectBuilder) -> ObjectBuilder,
) -> RefOr<Schema> {
    let base = ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(*chars.start()))
        .max_length(Some(*chars.end()));
    let mut object = refine(base).build();
    if object.pattern.is_none() && object.format.is_none() {
        object.pattern = Some(trimmed_pattern(*chars.start()));
    }
    Schema::Object(object).into()
}

/// Free text as `trimmed` takes it, for the OpenAPI document: at least `min` characters once
/// surrounding white space (as Rust counts it) is trimmed, and no U+0000 (refused by the
/// HTTP layer: PostgreSQL cannot store it). The raw length is bounded by the schema itself.
fn trimmed_pattern(min: usize) -> String {
    const SPACE: &str = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000";
    let (w, n) = (format!("[{SPACE}]"), format!("[^\\x00{SPACE}]"));
    match min {
        0 | 1 => format!("^{w}*{n}([^\\x00]*{n})?{w}*$"),
        _ => format!("^{w}*{n}[^\\x00]{{{},}}{n}{w}*$", min - 2),
    }
}

#[cfg(test)]
mod tests {
    use utoipa::{PartialSchema, ToSchema};

    use super::{super::*, *};

    #[test]
    fn free_text_schemas_say_what_trimming_leaves() {
        assert_eq!(
            trimmed_pattern(3),
            format!(
                "^[{s}]*[^\\x00{s}][^\\x00]{{1,}}[^\\x00{s}][{s}]*$",
                s = r"\t\n\x0B\x0C\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"
            )
        );
        let schema = serde_json::to_value(Reason::schema()).unwrap();
        assert_eq!(schema["pattern"], trimmed_pattern(1));
        let category = serde_json::to_value(Category::schema()).unwrap();
        assert_eq!(
            category["pattern"], "^[a-z0-9_-]+$",
            "a pattern of its own is kept"
        );
    }

    #[test]
    fn the_openapi_schema_has_the_same_limits() {
        let schema = serde_json::to_value(ComplaintTitle::schema()).unwrap();
        assert_eq!(schema["type"], "string");
        assert_eq!(schema["minLength"], 3);
        assert_eq!(schema["maxLength"], 200);
        let schema = serde_json::to_value(Email::schema()).unwrap();
        assert_eq!(schema["format"], "email");
        assert_eq!(ComplaintTitle::name(), "ComplaintTitle");
    }

    #[test]
    fn the_wire_enums_schemas_list_their_wire_names() {
        let schema = serde_json::to_value(crate::Priority::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(crate::Priority::NAMES));
        let schema = serde_json::to_value(crate::Status::schema()).unwrap();
        assert_eq!(schema["enum"], serde_json::json!(crate::Status::NAMES));
    }
}
