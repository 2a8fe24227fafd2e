//! Canonical JSON: one byte sequence per JSON value, so a hash over it can be recomputed by
//! anyone, from the stored row, with any JSON library.
//!
//! The rules:
//! - no whitespace anywhere;
//! - object members sorted by key, comparing the keys' UTF-8 bytes (the same as comparing
//!   Unicode code points);
//! - strings in double quotes; `"` and `\` escaped with a backslash; the control characters
//!   U+0008, U+0009, U+000A, U+000C, U+000D as `\b \t \n \f \r`, the other ones below U+0020
//!   as `\u00xx` (lower-case hex); every other character as its raw UTF-8;
//! - integers in decimal; other numbers in the shortest form that reads back as the same
//!   IEEE-754 double (`1.5`, `1e-7`, `1.0`), as serde_json prints them;
//! - `true`, `false`, `null`.
//!
//! The key order is applied here rather than trusted to the map type, because serde_json's
//! `preserve_order` feature (which any crate in the build may switch on) keeps insertion order.

use serde_json::Value;

/// The canonical form of `value`.
pub fn to_canonical_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value);
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => out.push_str(&number.to_string()),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (key, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, member);
            }
            out.push('}');
        }
    }
}

fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_are_written_with_sorted_keys_and_no_whitespace() {
        let value = json!({ "b": 1, "a": { "z": [true, null], "y": "x" }, "A": false });
        assert_eq!(
            to_canonical_string(&value),
            r#"{"A":false,"a":{"y":"x","z":[true,null]},"b":1}"#
        );
    }

    #[test]
    fn keys_are_ordered_by_code_point() {
        let value = json!({ "é": 1, "z": 2, "Z": 3, "10": 4, "9": 5 });
        assert_eq!(
            to_canonical_string(&value),
            r#"{"10":4,"9":5,"Z":3,"z":2,"é":1}"#
        );
    }

    #[test]
    fn strings_escape_only_what_json_requires() {
        let value = json!("quote \" backslash \\ tab \t newline \n nul \u{0} bell \u{7} é €");
        assert_eq!(
            to_canonical_string(&value),
            "\"quote \\\" backslash \\\\ tab \\t newline \\n nul \\u0000 bell \\u0007 é €\""
        );
    }

    #[test]
    fn numbers_keep_their_shortest_round_trip_form() {
        let value: Value = serde_json::from_str("[1, -2, 1.5, 1.0, 1e-7, 12345678901234567890]")
            .expect("valid JSON");
        assert_eq!(
            to_canonical_string(&value),
            "[1,-2,1.5,1.0,1e-7,12345678901234567890]"
        );
    }

    #[test]
    fn the_form_survives_a_round_trip_through_its_own_text() {
        let value = json!({ "n": [0.1, 2.5e10, -7], "s": "a\u{1f}b", "o": {} });
        let text = to_canonical_string(&value);
        let again: Value = serde_json::from_str(&text).expect("canonical JSON is JSON");
        assert_eq!(to_canonical_string(&again), text);
    }
}
