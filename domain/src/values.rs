//! Values parsed at the boundary ("parse, don't validate"): the HTTP layer turns raw strings
//! into these types once, and the domain never sees an invalid title, e-mail or agent id.
//!
//! Each type deserializes through its `parse`, so a JSON body or event that carries an
//! invalid value fails to decode instead of producing an invalid value. Lengths count
//! characters, not bytes: the minimum after trimming surrounding whitespace, the maximum as
//! sent (so that the OpenAPI schema, `maxLength` and a pattern, says exactly what is accepted).

use std::{fmt, ops::RangeInclusive, str::FromStr};

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::openapi::schema::{KnownFormat, SchemaFormat};

#[cfg(feature = "openapi")]
mod schema;

/// A value the user supplied that does not meet its rules; an HTTP layer answers 422.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    /// The field as the API names it (camelCase), so a client can point at it.
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// The common code of the string newtypes: the allowed length, access, display,
/// conversions, `FromStr` (all through the type's own `parse`) and, with the `openapi`
/// feature, an OpenAPI string schema with the same length limits, refined by `$schema`.
macro_rules! string_value {
    ($name:ident, chars = $min:literal..=$max:literal, $schema:expr) => {
        impl $name {
            /// How many characters the value may have, after trimming.
            pub const CHARS: RangeInclusive<usize> = $min..=$max;

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;

            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                schema::string_schema(Self::CHARS, $schema)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// A complaint's title: 3 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ComplaintTitle(String);
string_value!(ComplaintTitle, chars = 3..=200, |s| s
    .examples(["Invoice charged twice"]));

impl ComplaintTitle {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        trimmed("title", raw.into(), Self::CHARS).map(Self)
    }
}

/// What happened, in the complainant's words: 1 to 5000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);
string_value!(Description, chars = 1..=5000, |s| s);

impl Description {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        trimmed("description", raw.into(), Self::CHARS).map(Self)
    }
}

/// A category slug such as `billing` or `late-delivery`: 1 to 50 characters out of
/// `a-z 0-9 - _`. Input is lower-cased first, so `Billing` and `billing` are one category
/// (a bounded label for metrics and a stable filter value).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Category(String);
string_value!(Category, chars = 1..=50, |s| s
    .pattern(Some("^[a-z0-9_-]+$"))
    .examples(["billing"]));

impl Category {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        let value = trimmed("category", raw.into(), Self::CHARS)?.to_lowercase();
        let is_slug =
            |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_';
        if !value.chars().all(is_slug) {
            return Err(ValidationError::new(
                "category",
                "must contain only letters a-z, digits, '-' and '_'",
            ));
        }
        Ok(Self(value))
    }
}

/// A support agent's id in the agent directory: 1 to 100 characters, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AgentId(String);
string_value!(AgentId, chars = 1..=100, |s| s
    .pattern(Some(r"^[^\s\x00]+$"))
    .examples(["agent-007"]));

impl AgentId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        identifier("agentId", raw.into(), Self::CHARS).map(Self)
    }
}

/// The complainant's id in the client system: 1 to 100 characters, no whitespace.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerId(String);
string_value!(CustomerId, chars = 1..=100, |s| s
    .pattern(Some(r"^[^\s\x00]+$"))
    .examples(["customer-42"]));

impl CustomerId {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        identifier("customer.id", raw.into(), Self::CHARS).map(Self)
    }
}

/// The complainant's name as they gave it: 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CustomerName(String);
string_value!(CustomerName, chars = 1..=200, |s| s
    .examples(["Ada Lovelace"]));

impl CustomerName {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        trimmed("customer.name", raw.into(), Self::CHARS).map(Self)
    }
}

/// An e-mail address that looks deliverable: one `@`, a non-empty local part, a domain with
/// a dot, no whitespace, at most 254 characters. Whether it exists is the mail server's call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
string_value!(Email, chars = 3..=254, |s| s
    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Email)))
    .examples(["ada@example.com"]));

impl Email {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        const FIELD: &str = "customer.email";
        let value = trimmed(FIELD, raw.into(), Self::CHARS)?;
        let invalid =
            || ValidationError::new(FIELD, "must be an e-mail address such as name@example.com");
        if value.chars().any(char::is_whitespace) {
            return Err(invalid());
        }
        let (local, domain) = value.split_once('@').ok_or_else(invalid)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(value))
    }
}

/// How a complaint was resolved, for the complainant to read: 1 to 2000 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Resolution(String);
string_value!(Resolution, chars = 1..=2000, |s| s);

impl Resolution {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        trimmed("resolution", raw.into(), Self::CHARS).map(Self)
    }
}

/// Why something was done (reopening, a priority change, a compensation): 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reason(String);
string_value!(Reason, chars = 1..=500, |s| s);

impl Reason {
    pub fn parse(raw: impl Into<String>) -> Result<Self, ValidationError> {
        trimmed("reason", raw.into(), Self::CHARS).map(Self)
    }
}

/// Who complained, and where to tell them about it. (`COMPLAINT_CREATED` schema version 1
/// had the e-mail directly here, `customer.email`; the upcaster moves it into `contact`.)
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    pub id: CustomerId,
    pub name: CustomerName,
    pub contact: Contact,
}

/// How to reach the complainant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub email: Email,
}

/// `raw` without surrounding whitespace, if it then has an allowed number of characters.
fn trimmed(
    field: &'static str,
    raw: String,
    chars: RangeInclusive<usize>,
) -> Result<String, ValidationError> {
    let value = raw.trim();
    let length = value.chars().count();
    if length == 0 {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if length < *chars.start() {
        return Err(ValidationError::new(
            field,
            format!("must be at least {} characters long", chars.start()),
        ));
    }
    // The maximum counts the value as sent, so that it is exactly the schema's `maxLength`.
    if raw.chars().count() > *chars.end() {
        return Err(ValidationError::new(
            field,
            format!("must be at most {} characters long", chars.end()),
        ));
    }
    Ok(if value.len() == raw.len() {
        raw
    } else {
        value.to_owned()
    })
}

/// An id: trimmed, of an allowed length, no whitespace inside.
fn identifier(
    field: &'static str,
    raw: String,
    chars: RangeInclusive<usize>,
) -> Result<String, ValidationError> {
    let value = trimmed(field, raw, chars)?;
    if value.chars().any(char::is_whitespace) {
        return Err(ValidationError::new(field, "must not contain whitespace"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_is_trimmed_and_between_3_and_200_characters() {
        assert_eq!(
            ComplaintTitle::parse("  Double charge  ").unwrap().as_str(),
            "Double charge"
        );
        assert!(ComplaintTitle::parse("ab").is_err());
        assert!(ComplaintTitle::parse("   abc   ").is_ok());
        assert!(
            ComplaintTitle::parse("é".repeat(200)).is_ok(),
            "characters, not bytes"
        );
        let error = ComplaintTitle::parse("x".repeat(201)).unwrap_err();
        assert_eq!(error.field, "title");
        assert_eq!(
            error.to_string(),
            "title: must be at most 200 characters long"
        );
        assert_eq!(
            ComplaintTitle::parse("   ").unwrap_err().message,
            "must not be empty"
        );
    }

    #[test]
    fn text_lengths_are_enforced() {
        assert!(Description::parse("x").is_ok());
        assert!(Description::parse("x".repeat(5000)).is_ok());
        assert!(Description::parse("x".repeat(5001)).is_err());
        assert!(Description::parse("").is_err());
        assert!(Resolution::parse("x".repeat(2000)).is_ok());
        assert!(Resolution::parse("x".repeat(2001)).is_err());
        assert!(Reason::parse("x".repeat(500)).is_ok());
        assert!(Reason::parse("x".repeat(501)).is_err());
        assert!(Reason::parse(" \n").is_err());
        assert!(CustomerName::parse("x".repeat(201)).is_err());
    }

    #[test]
    fn a_category_is_a_lower_case_slug() {
        assert_eq!(Category::parse(" Billing ").unwrap().as_str(), "billing");
        assert!(Category::parse("late-delivery_2").is_ok());
        assert_eq!(
            Category::parse("late delivery").unwrap_err().field,
            "category"
        );
        assert!(Category::parse("café").is_err());
        assert!(Category::parse("x".repeat(51)).is_err());
        assert!(Category::parse("").is_err());
    }

    #[test]
    fn ids_have_no_whitespace() {
        assert_eq!(AgentId::parse(" agent-1 ").unwrap().as_str(), "agent-1");
        assert_eq!(AgentId::parse("agent 1").unwrap_err().field, "agentId");
        assert!(AgentId::parse("").is_err());
        assert!(AgentId::parse("a".repeat(101)).is_err());
        assert!(CustomerId::parse("c-1").is_ok());
        assert!(CustomerId::parse("c\t1").is_err());
    }

    #[test]
    fn an_email_needs_one_at_and_a_dotted_domain() {
        for good in ["ada@example.com", "a.b+tag@mail.example.org", " x@y.io "] {
            assert!(Email::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@example.com",
            "a@b@example.com",
            "ada@.example.com",
            "ada@example.com.",
            "ada@example..com",
            "ada lovelace@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(243));
        assert!(Email::parse(&long).is_err());
        assert!(Email::parse(&long[1..]).is_ok());
    }

    #[test]
    fn values_serialize_as_plain_strings_and_validate_when_decoded() {
        let title = ComplaintTitle::parse("Broken").unwrap();
        assert_eq!(serde_json::to_value(&title).unwrap(), "Broken");
        let decoded: ComplaintTitle = serde_json::from_value("Broken".into()).unwrap();
        assert_eq!(decoded, title);
        let error = serde_json::from_value::<ComplaintTitle>("ab".into()).unwrap_err();
        assert!(error.to_string().contains("title"), "{error}");
        let customer: Customer = serde_json::from_value(serde_json::json!({
            "id": "c-1", "name": "Ada", "contact": { "email": "ada@example.com" }
        }))
        .unwrap();
        assert_eq!(customer.contact.email.as_str(), "ada@example.com");
        assert!(serde_json::from_value::<Customer>(serde_json::json!({
            "id": "c-1", "name": "Ada", "contact": { "email": "nope" }
        }))
        .is_err());
    }

    #[test]
    fn values_convert_like_strings() {
        let agent: AgentId = "a-1".parse().unwrap();
        assert_eq!(agent.to_string(), "a-1");
        assert_eq!(String::from(agent.clone()), "a-1");
        assert_eq!(AgentId::try_from("a-1".to_owned()), Ok(agent));
    }
}
