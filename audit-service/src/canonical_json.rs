//! Canonical JSON: one byte sequence per JSON value, so a hash over it can be recomputed by
//! anyone, from the stored row.
//!
//! [`to_jcs_string`] is the JSON Canonicalization Scheme of RFC 8785, which JCS libraries
//! implement in most languages (`canonicalize` in JavaScript and Python, `serde_jcs` in
//! Rust, `json-canonicalization` in Java):
//! - no whitespace anywhere;
//! - object members sorted by key, comparing the keys as UTF-16 code units;
//! - strings in double quotes; `"` and `\` escaped with a backslash; the control characters
//!   U+0008, U+0009, U+000A, U+000C, U+000D as `\b \t \n \f \r`, the other ones below U+0020
//!   as `\u00xx` (lower-case hex); every other character as its raw UTF-8;
//! - every number as an IEEE-754 double written the way ECMAScript's `Number.prototype.toString`
//!   writes it (`1`, `1.5`, `1e-7`, `1e+30`, `0.002`);
//! - `true`, `false`, `null`.
//!
//! [`to_legacy_string`] is the form the first entries of a trail were hashed with (hash scheme
//! 1, see [`crate::chain::HashScheme`]): the same, except that keys are sorted by their UTF-8
//! bytes and numbers are written as serde_json writes them (`1.0`, `1e-7`, integers in full).
//! It stays so that those entries still verify.
//!
//! The key order is applied here rather than trusted to the map type, because serde_json's
//! `preserve_order` feature (which any crate in the build may switch on) keeps insertion order.

use serde_json::{Number, Value};
use std::cmp::Ordering;

/// The RFC 8785 (JCS) form of `value`.
pub fn to_jcs_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, &JCS);
    out
}

/// The form of hash scheme 1, kept to verify the entries written with it.
pub fn to_legacy_string(value: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, value, &LEGACY);
    out
}

/// What differs between the two forms.
struct Rules {
    key_order: fn(&str, &str) -> Ordering,
    write_number: fn(&mut String, &Number),
}

const JCS: Rules = Rules {
    key_order: |a, b| a.encode_utf16().cmp(b.encode_utf16()),
    write_number: |out, number| write_ecmascript_number(out, number.as_f64().unwrap_or(0.0)),
};

const LEGACY: Rules = Rules {
    key_order: |a, b| a.as_bytes().cmp(b.as_bytes()),
    write_number: |out, number| out.push_str(&number.to_string()),
};

fn write_value(out: &mut String, value: &Value, rules: &Rules) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(number) => (rules.write_number)(out, number),
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, rules);
            }
            out.push(']');
        }
        Value::Object(members) => {
            let mut sorted: Vec<(&String, &Value)> = members.iter().collect();
            sorted.sort_unstable_by(|a, b| (rules.key_order)(a.0, b.0));
            out.push('{');
            for (i, (key, member)) in sorted.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, member, rules);
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

/// `value` as ECMAScript's `Number.prototype.toString` writes it (ECMA-262, 7.1.12.1), which
/// RFC 8785 adopts. JSON has no NaN or infinity, so `value` is finite.
fn write_ecmascript_number(out: &mut String, value: f64) {
    if value == 0.0 {
        out.push('0'); // -0 included
        return;
    }
    if value < 0.0 {
        out.push('-');
    }
    // Rust's `{:e}` gives the shortest digits that read back as the same double, which is
    // what ECMAScript asks for: `d[.ddd]e<exp>`.
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`{:e}` always writes an exponent");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let exponent: i32 = exponent.parse().expect("a decimal exponent");
    // ECMAScript's names: k digits, and n such that the value is 0.digits × 10^n.
    let k = digits.len() as i32;
    let n = exponent + 1;
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        out.push_str(&digits[..n as usize]);
        out.push('.');
        out.push_str(&digits[n as usize..]);
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let exponent = n - 1;
        out.push('e');
        out.push(if exponent >= 0 { '+' } else { '-' });
        out.push_str(&exponent.abs().to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn jcs_of(text: &str) -> String {
        to_jcs_string(&serde_json::from_str(text).expect("valid JSON"))
    }

    #[test]
    fn objects_are_written_with_sorted_keys_and_no_whitespace() {
        let value = json!({ "b": 1, "a": { "z": [true, null], "y": "x" }, "A": false });
        let expected = r#"{"A":false,"a":{"y":"x","z":[true,null]},"b":1}"#;
        assert_eq!(to_jcs_string(&value), expected);
        assert_eq!(to_legacy_string(&value), expected);
    }

    /// RFC 8785, section 3.2.3: keys are compared as UTF-16 code units, so the emoji
    /// (U+1F600, surrogates D83D DE00) sorts before U+FB33, though its UTF-8 bytes do not.
    #[test]
    fn keys_are_ordered_by_utf16_code_units_as_rfc_8785_sorts_them() {
        let text = r#"{"\u20ac":"Euro Sign","\r":"Carriage Return","\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\ud83d\ude00":"Emoji: Grinning Face","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis"}"#;
        let keys: Vec<String> = jcs_of(text)
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .map(|member| member.split(':').next().unwrap().to_owned())
            .collect();
        assert_eq!(
            keys,
            [
                "\"\\r\"",
                "\"1\"",
                "\"\u{80}\"",
                "\"\u{f6}\"",
                "\"\u{20ac}\"",
                "\"\u{1f600}\"",
                "\"\u{fb33}\""
            ]
        );
    }

    /// RFC 8785, section 3.2.2: the example of the RFC, byte for byte.
    #[test]
    fn the_rfc_8785_example_is_reproduced_exactly() {
        let input = r#"{
            "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
            "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
            "literals": [null, true, false]
        }"#;
        assert_eq!(
            jcs_of(input),
            "{\"literals\":[null,true,false],\"numbers\":[333333333.3333333,1e+30,4.5,0.002,1e-27],\"string\":\"\u{20ac}$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"}"
        );
    }

    /// ECMAScript's number forms at each boundary (the RFC's appendix B lists these).
    #[test]
    fn numbers_are_written_as_ecmascript_writes_them() {
        for (input, expected) in [
            ("0", "0"),
            ("-0", "0"),
            ("1", "1"),
            ("1.0", "1"),
            ("-2", "-2"),
            ("1.5", "1.5"),
            ("100", "100"),
            ("1e21", "1e+21"),
            ("1e20", "100000000000000000000"),
            ("123456789012345680000", "123456789012345680000"),
            ("0.000001", "0.000001"),
            ("0.0000001", "1e-7"),
            ("1.5e-7", "1.5e-7"),
            ("4.35", "4.35"),
            ("9007199254740992", "9007199254740992"),
            ("9007199254740993", "9007199254740992"),
            ("12345678901234567890", "12345678901234567000"),
            ("-1.7976931348623157e308", "-1.7976931348623157e+308"),
            ("5e-324", "5e-324"),
        ] {
            assert_eq!(jcs_of(input), expected, "{input}");
        }
    }

    #[test]
    fn the_legacy_form_keeps_serde_json_numbers_and_utf8_key_order() {
        let value: Value =
            serde_json::from_str(r#"{"\ufb33":1.0,"\ud83d\ude00":[1e-7,12345678901234567890]}"#)
                .expect("valid JSON");
        assert_eq!(
            to_legacy_string(&value),
            "{\"\u{fb33}\":1.0,\"\u{1f600}\":[1e-7,12345678901234567890]}"
        );
        assert_eq!(
            to_jcs_string(&value),
            "{\"\u{1f600}\":[1e-7,12345678901234567000],\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn strings_escape_only_what_json_requires() {
        let value = json!("quote \" backslash \\ tab \t newline \n nul \u{0} bell \u{7} é €");
        assert_eq!(
            to_jcs_string(&value),
            "\"quote \\\" backslash \\\\ tab \\t newline \\n nul \\u0000 bell \\u0007 é €\""
        );
    }

    #[test]
    fn the_form_survives_a_round_trip_through_its_own_text() {
        let value = json!({ "n": [0.1, 2.5e10, -7, 1e300], "s": "a\u{1f}b", "o": {} });
        let text = to_jcs_string(&value);
        let again: Value = serde_json::from_str(&text).expect("canonical JSON is JSON");
        assert_eq!(to_jcs_string(&again), text);
    }
}
