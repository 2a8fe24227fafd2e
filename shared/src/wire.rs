//! Closed sets of names that travel on the wire (in events, rows, query strings): one macro,
//! [`wire_enum!`](crate::wire_enum), writes the enum, its list, its name, `Display`, `FromStr`
//! and serde, so the name an enum is stored under, published under and parsed from is written
//! once, beside its variant.
//!
//! ```
//! shared::wire_enum!(
//!     /// How a parcel travels.
//!     #[derive(utoipa::ToSchema)]
//!     Carrier, "lowercase" {
//!         Post => "post",
//!         /// Same day, by bike.
//!         Courier => "courier",
//!     }
//! );
//! assert_eq!(Carrier::Courier.as_str(), "courier");
//! assert_eq!("post".parse::<Carrier>(), Ok(Carrier::Post));
//! assert_eq!(serde_json::to_value(Carrier::Post).unwrap(), "post");
//! assert!("bike".parse::<Carrier>().unwrap_err().to_string().contains("courier"));
//! ```
//!
//! The syntax is notification-service's original one: attributes (doc comments, extra derives
//! such as `utoipa::ToSchema`, which reads the wire names from the serde attributes), the
//! name, the case the wire names follow (for the reader: each variant is renamed to its
//! literal, so serde and `as_str` cannot disagree), then `Variant => "wire"` with optional
//! attributes per variant (e.g. a doc comment). No extension; besides `ALL` it adds `NAMES`
//! (the wire names in the same order), as the domain crate's macro does.
//!
//! The enum derives `Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize,
//! Deserialize`; the serde derive's expansion names the `serde` crate, so the calling crate
//! depends on serde (every crate of the workspace does). Nothing needs to be in scope.

/// The derives' path, so callers need no `use serde::…`.
#[doc(hidden)]
pub use serde as __serde;

/// A name that is not one of the set (a row written by a newer build, a typo in a query).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`; expected one of {}", .expected.join(", "))]
pub struct UnknownName {
    /// The enum's name, e.g. `EventType`.
    pub kind: &'static str,
    pub name: String,
    /// Every wire name of the set.
    pub expected: &'static [&'static str],
}

impl UnknownName {
    pub fn new(kind: &'static str, name: &str, expected: &'static [&'static str]) -> Self {
        Self {
            kind,
            name: name.to_owned(),
            expected,
        }
    }
}

/// Defines a closed set of wire names with `ALL`, `as_str`, `Display`, `FromStr` and serde by
/// wire name; see [the module](crate::wire).
///
/// The wire names are matched as `tt`, not `literal`: a `literal` fragment reaches derive
/// macros wrapped in an invisible group, and utoipa's `ToSchema` then ignores the
/// `#[serde(rename)]` (the OpenAPI would list `Agent` for `AGENT`, as issue 10 found).
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident, $case:literal { $($(#[$vmeta:meta])* $variant:ident => $wire:tt),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            $crate::wire::__serde::Serialize, $crate::wire::__serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire names of [`Self::ALL`], in the same order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::wire::UnknownName;

            /// The exact wire name; the sets are small, so a scan is fine.
            fn from_str(s: &str) -> ::std::result::Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::wire::UnknownName::new(stringify!($name), s, Self::NAMES))
            }
        }
    };
}

#[cfg(test)]
mod tests {
    crate::wire_enum!(
        /// A set whose wire names are not a serde case of the variants.
        Dotted, "lowercase" {
            Create => "thing.create",
            /// Documented variant.
            Close => "thing.close",
        }
    );

    #[test]
    fn serde_display_and_from_str_use_the_wire_name() {
        for value in Dotted::ALL {
            assert_eq!(value.to_string(), value.as_str());
            assert_eq!(value.as_str().parse::<Dotted>(), Ok(*value));
            let json = serde_json::to_value(value).unwrap();
            assert_eq!(json, serde_json::json!(value.as_str()));
            assert_eq!(serde_json::from_value::<Dotted>(json).unwrap(), *value);
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_names_expected() {
        let error = "thing.open".parse::<Dotted>().unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown Dotted `thing.open`; expected one of thing.create, thing.close"
        );
        let serde_error = serde_json::from_value::<Dotted>(serde_json::json!("close")).unwrap_err();
        assert!(serde_error.to_string().contains("unknown variant `close`"));
    }
}
