//! Closed sets of names that travel on the wire (in JSON, in stored rows, in query strings):
//! [`wire_enum!`] declares one, and [`UnknownName`] is what parsing any of them refuses with.

use crate::values::ValidationError;

/// Declares an enum whose variants each have one wire name, with
/// - `ALL` (every variant, in declaration order) and `NAMES` (their wire names, same order);
/// - `as_str`, `Display` (the wire name) and `FromStr` (the exact wire name, else
///   [`UnknownName`](crate::UnknownName) naming the kind and the expected names);
/// - serde by wire name (derived, so an unknown name is refused with serde's own
///   "unknown variant" message), and `Debug`, `Clone`, `Copy`, `Eq`, `Ord`, `Hash`.
///
/// ```
/// domain::wire_enum!(
///     /// Where a parcel is.
///     #[derive(Default)]
///     Parcel, "SCREAMING_SNAKE_CASE" {
///         #[default]
///         InTransit => "IN_TRANSIT",
///         Delivered => "DELIVERED",
///     }
/// );
/// assert_eq!(Parcel::InTransit.to_string(), "IN_TRANSIT");
/// assert_eq!("DELIVERED".parse::<Parcel>(), Ok(Parcel::Delivered));
/// assert_eq!(
///     "LOST".parse::<Parcel>().unwrap_err().to_string(),
///     "unknown Parcel `LOST`; expected one of IN_TRANSIT, DELIVERED"
/// );
/// ```
///
/// Attributes before the name go on the enum (doc comments, more derives such as
/// `utoipa::ToSchema`, which reads the wire names from the serde attributes), attributes
/// before a variant go on the variant. The quoted case after the name says which convention
/// the wire names follow, for the reader; the names themselves are the literals.
///
/// The names are taken as token trees, not `literal` fragments: a derive then sees
/// `#[serde(rename = "…")]` as written (utoipa does not read a captured `literal`, and its
/// schema would list the Rust names).
///
/// Everything the expansion names is reached through `$crate`, so the caller needs nothing in
/// scope; serde's derive still expects the calling crate to depend on `serde` (every crate of
/// the workspace does).
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $case:tt {
            $($(#[$vmeta:meta])* $variant:ident => $wire:tt),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            $crate::__private::serde::Serialize, $crate::__private::serde::Deserialize,
        )]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $wire)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire names of [`Self::ALL`], in the same order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire),+
                }
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::core::str::FromStr for $name {
            type Err = $crate::UnknownName;

            fn from_str(name: &str) -> ::core::result::Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|known| known.as_str() == name)
                    .ok_or_else(|| $crate::UnknownName::new(stringify!($name), name, Self::NAMES))
            }
        }
    };
}

/// A name that is not one of a wire enum's: a row written by a newer version, corruption,
/// or a typing mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{name}`; expected one of {}", .expected.join(", "))]
pub struct UnknownName {
    /// What was being parsed (the enum's name, or the field a person typed it in).
    pub kind: &'static str,
    pub name: String,
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

/// The variant of `all` whose wire name (`names`, same order) `raw` is in any case and with
/// surrounding spaces, for names typed by hand (query strings); refused as a mistake in
/// `field`.
pub(crate) fn parse_lenient<T: Copy>(
    field: &'static str,
    all: &[T],
    names: &'static [&'static str],
    raw: &str,
) -> Result<T, ValidationError> {
    names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(raw.trim()))
        .map(|index| all[index])
        .ok_or_else(|| ValidationError::new(field, UnknownName::new(field, raw, names).to_string()))
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::UnknownName;

    crate::wire_enum!(
        /// A kind of thing, with a name that does not follow its case.
        #[derive(Default)]
        Thing, "lowercase" {
            #[default]
            Small => "small",
            Large => "large",
            Odd => "ODD-one",
        }
    );

    #[test]
    fn a_wire_enum_lists_and_names_its_variants() {
        assert_eq!(Thing::ALL, [Thing::Small, Thing::Large, Thing::Odd]);
        assert_eq!(Thing::NAMES, ["small", "large", "ODD-one"]);
        assert_eq!(Thing::Odd.as_str(), "ODD-one");
        assert_eq!(Thing::Large.to_string(), "large");
        assert_eq!(Thing::default(), Thing::Small);
    }

    #[test]
    fn a_wire_enum_parses_exactly_its_wire_names() {
        for &thing in Thing::ALL {
            assert_eq!(Thing::from_str(thing.as_str()), Ok(thing));
        }
        let error = "LARGE".parse::<Thing>().unwrap_err();
        assert_eq!(
            error,
            UnknownName::new("Thing", "LARGE", &["small", "large", "ODD-one"])
        );
        assert_eq!(
            error.to_string(),
            "unknown Thing `LARGE`; expected one of small, large, ODD-one"
        );
    }

    #[test]
    fn a_wire_enum_travels_in_json_by_its_wire_name() {
        for &thing in Thing::ALL {
            let json = serde_json::to_value(thing).unwrap();
            assert_eq!(json, thing.as_str());
            assert_eq!(serde_json::from_value::<Thing>(json).unwrap(), thing);
        }
        let error = serde_json::from_value::<Thing>("odd".into()).unwrap_err();
        assert!(
            error.to_string().starts_with("unknown variant `odd`"),
            "{error}"
        );
    }

    #[test]
    fn a_lenient_parse_ignores_case_and_spaces_and_names_the_field() {
        let parse = |raw| super::parse_lenient("thing", Thing::ALL, Thing::NAMES, raw);
        assert_eq!(parse(" Large "), Ok(Thing::Large));
        assert_eq!(parse("odd-ONE"), Ok(Thing::Odd));
        let error = parse("huge").unwrap_err();
        assert_eq!(error.field, "thing");
        assert_eq!(
            error.message,
            "unknown thing `huge`; expected one of small, large, ODD-one"
        );
    }
}
