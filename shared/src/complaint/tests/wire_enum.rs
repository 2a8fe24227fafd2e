//! `shared::wire_enum!` from a crate other than the domain's, as the services call it: nothing
//! in scope, and an OpenAPI schema (a derive passed through) that lists the wire names.

use utoipa::PartialSchema;

crate::wire_enum!(
    /// Where a parcel is.
    #[derive(utoipa::ToSchema)]
    Parcel, "SCREAMING_SNAKE_CASE" {
        InTransit => "IN_TRANSIT",
        Delivered => "DELIVERED",
    }
);

#[test]
fn a_wire_enum_declared_outside_the_domain_has_its_wire_names_everywhere() {
    assert_eq!(Parcel::InTransit.to_string(), "IN_TRANSIT");
    assert_eq!("DELIVERED".parse::<Parcel>(), Ok(Parcel::Delivered));
    assert_eq!(
        serde_json::to_value(Parcel::InTransit).unwrap(),
        "IN_TRANSIT"
    );
    let error = "LOST".parse::<Parcel>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "unknown Parcel `LOST`; expected one of IN_TRANSIT, DELIVERED"
    );
    let schema = serde_json::to_value(Parcel::schema()).unwrap();
    assert_eq!(
        schema["enum"],
        serde_json::json!(["IN_TRANSIT", "DELIVERED"])
    );
    assert_eq!(schema["description"], "Where a parcel is.");
}
