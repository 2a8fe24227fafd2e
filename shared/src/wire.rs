//! Closed sets of names that travel on the wire (in events, rows, query strings): the domain
//! crate's [`wire_enum!`](crate::wire_enum) writes the enum, its list, its name, `Display`,
//! `FromStr` and serde, so the name an enum is stored under, published under and parsed from
//! is written once, beside its variant. Re-exported here so every crate of the workspace
//! declares its wire enums the same way.
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

pub use domain::UnknownName;
