//! What the shared edge does on every route, written into each service's OpenAPI document
//! once here rather than on every handler: a generated client then knows every status it can
//! get and every value it may send, and schemathesis finds no undocumented status and no
//! schema-valid parameter that the edge refuses.

use super::error::{ErrorBody, ErrorContent};
use crate::auth::Access;
use utoipa::openapi::{
    path::{Operation, Parameter, ParameterIn},
    response::{Response, ResponseBuilder},
    schema::{Schema, SchemaType, Type},
    security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    ContentBuilder, OpenApi, Ref, RefOr,
};

/// What `control_characters` lets through, as a JSON Schema pattern (ECMA and Python alike).
pub const NO_CONTROL_CHARACTERS: &str = "^[^\\x00-\\x1F\\x7F]*$";
/// [`NO_CONTROL_CHARACTERS`], and not blank: `str::trim` leaves something (the class lists
/// what Rust counts as white space).
pub const NOT_BLANK_TEXT: &str = "^[^\\x00-\\x1F\\x7F]*[^\\x00-\\x20\\x7F\\x85\\xA0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000][^\\x00-\\x1F\\x7F]*$";

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(ErrorBody, ErrorContent)))]
struct ErrorSchemas;

/// The name of the bearer scheme in every document.
pub const BEARER: &str = "bearerAuth";

/// Declares the bearer (JWT) scheme and, on each operation `access` guards, requires it,
/// names the roles admitted and adds 401 and 403. Returns the operations the table has no
/// rule for (`GET /path`): the caller refuses to start with any.
pub fn document_security(openapi: &mut OpenApi, access: &Access) -> Vec<String> {
    let components = openapi.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        BEARER,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .description(Some(
                    "A JWT from the identity provider (locally: `make token ROLE=… SUB=…`)",
                ))
                .build(),
        ),
    );
    let mut missing = Vec::new();
    for (path, item) in openapi.paths.paths.iter_mut() {
        for (method, operation) in [
            ("GET", &mut item.get),
            ("PUT", &mut item.put),
            ("POST", &mut item.post),
            ("DELETE", &mut item.delete),
            ("PATCH", &mut item.patch),
        ] {
            let Some(operation) = operation.as_mut() else {
                continue;
            };
            let Some(roles) = access.roles_for(method, path) else {
                missing.push(format!("{method} {path}"));
                continue;
            };
            operation.security = Some(vec![SecurityRequirement::new(BEARER, Vec::<String>::new())]);
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            let note = format!("Roles: {}.", names.join(", "));
            operation.description = Some(match operation.description.take() {
                Some(text) if !text.is_empty() => format!("{text}\n\n{note}"),
                _ => note,
            });
            add(
                operation,
                "401",
                "No bearer token, or one that is malformed, expired, not yet valid, badly \
                 signed or for another issuer or audience (WWW-Authenticate: Bearer)",
            );
            add(
                operation,
                "403",
                "The token's roles do not allow this request",
            );
        }
    }
    missing
}

/// Adds, to each operation that does not document them itself:
/// - 400 when it takes parameters or a body (a control character, a malformed parameter or
///   header, malformed JSON);
/// - 413 and 415 when it takes a body;
/// - 503 on every operation (the request's deadline passed, or a dependency is unavailable).
///
/// And to every free-text path or query parameter (a string without a pattern, format or
/// enum of its own), the pattern [`NO_CONTROL_CHARACTERS`]; no parameter is `null`.
pub fn document_edge_responses(openapi: &mut OpenApi) {
    openapi.merge(<ErrorSchemas as utoipa::OpenApi>::openapi());
    for item in openapi.paths.paths.values_mut() {
        let path_has_parameters = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
        item.parameters.iter_mut().flatten().for_each(confine_text);
        for operation in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
            &mut item.head,
            &mut item.options,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            document(operation, path_has_parameters);
        }
    }
}

fn document(operation: &mut Operation, path_has_parameters: bool) {
    operation
        .parameters
        .iter_mut()
        .flatten()
        .for_each(confine_text);
    let has_body = operation.request_body.is_some();
    let has_parameters =
        path_has_parameters || operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if has_parameters || has_body {
        add(
            operation,
            "400",
            "A malformed request: a control character in the path or query, a parameter or \
             header that is not of its type, malformed JSON",
        );
    }
    if has_body {
        add(
            operation,
            "413",
            "The body is larger than the service accepts",
        );
        add(operation, "415", "The body is not JSON (Content-Type)");
    }
    add(
        operation,
        "503",
        "The request's deadline passed, or a dependency is unavailable; try again (Retry-After)",
    );
}

fn confine_text(parameter: &mut Parameter) {
    let Some(RefOr::T(Schema::Object(object))) = parameter.schema.as_mut() else {
        return;
    };
    // A parameter is absent or has a value; it is never JSON `null` (which a generated client
    // would send as the text "null"). `Option<T>` makes utoipa say `[T, "null"]`.
    if let SchemaType::Array(kinds) = &object.schema_type {
        let kinds: Vec<Type> = kinds
            .iter()
            .filter(|k| **k != Type::Null)
            .cloned()
            .collect();
        if let [only] = kinds.as_slice() {
            object.schema_type = SchemaType::Type(only.clone());
        }
    }
    if !matches!(
        parameter.parameter_in,
        ParameterIn::Path | ParameterIn::Query
    ) {
        return;
    }
    let is_string = match &object.schema_type {
        SchemaType::Type(kind) => *kind == Type::String,
        SchemaType::Array(kinds) => kinds.contains(&Type::String),
        SchemaType::AnyValue => false,
    };
    if is_string
        && object.pattern.is_none()
        && object.format.is_none()
        && object.enum_values.is_none()
    {
        object.pattern = Some(NO_CONTROL_CHARACTERS.to_owned());
    }
}

fn add(operation: &mut Operation, status: &str, description: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::T(error_response(description)));
}

fn error_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::{
        path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem},
        request_body::RequestBodyBuilder,
        ObjectBuilder, OpenApiBuilder, PathsBuilder,
    };

    fn statuses(openapi: &OpenApi, path: &str) -> Vec<String> {
        let item = &openapi.paths.paths[path];
        let operation = item.get.as_ref().or(item.post.as_ref()).unwrap();
        operation.responses.responses.keys().cloned().collect()
    }

    #[test]
    fn every_operation_gets_the_statuses_the_edge_can_answer() {
        let plain =
            OperationBuilder::new().response("200", ResponseBuilder::new().description("ok"));
        let with_query = OperationBuilder::new()
            .parameter(
                ParameterBuilder::new()
                    .name("q")
                    .parameter_in(ParameterIn::Query)
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(SchemaType::Array(vec![Type::String, Type::Null])),
                    )),
            )
            .response("400", ResponseBuilder::new().description("its own words"));
        let with_body =
            OperationBuilder::new().request_body(Some(RequestBodyBuilder::new().build()));
        let mut openapi = OpenApiBuilder::new()
            .paths(
                PathsBuilder::new()
                    .path("/plain", PathItem::new(HttpMethod::Get, plain))
                    .path("/query", PathItem::new(HttpMethod::Get, with_query))
                    .path("/body", PathItem::new(HttpMethod::Post, with_body)),
            )
            .build();
        document_edge_responses(&mut openapi);
        assert_eq!(statuses(&openapi, "/plain"), ["200", "503"]);
        assert_eq!(statuses(&openapi, "/query"), ["400", "503"]);
        assert_eq!(statuses(&openapi, "/body"), ["400", "413", "415", "503"]);
        let kept = &openapi.paths.paths["/query"]
            .get
            .as_ref()
            .unwrap()
            .responses
            .responses["400"];
        assert!(matches!(kept, RefOr::T(r) if r.description == "its own words"));
        let query = &openapi.paths.paths["/query"]
            .get
            .as_ref()
            .unwrap()
            .parameters
            .as_ref()
            .unwrap()[0];
        assert!(
            matches!(&query.schema, Some(RefOr::T(Schema::Object(o)))
                if o.pattern.as_deref() == Some(NO_CONTROL_CHARACTERS)
                    && o.schema_type == SchemaType::Type(Type::String)),
            "free text is documented without control characters"
        );
        assert!(openapi
            .components
            .unwrap()
            .schemas
            .contains_key("ErrorBody"));
    }
}
