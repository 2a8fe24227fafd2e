//! What the shared edge answers on every route, written into each service's OpenAPI document
//! once here rather than on every handler: a generated client then knows every status it can
//! get, and schemathesis finds no undocumented one.

use super::error::{ErrorBody, ErrorContent};
use utoipa::openapi::{
    path::Operation,
    response::{Response, ResponseBuilder},
    ContentBuilder, OpenApi, Ref, RefOr,
};

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(ErrorBody, ErrorContent)))]
struct ErrorSchemas;

/// Adds, to each operation that does not document them itself:
/// - 400 when it takes parameters or a body (a control character, a malformed parameter or
///   header, malformed JSON);
/// - 413 and 415 when it takes a body;
/// - 503 on every operation (the request's deadline passed, or a dependency is unavailable).
pub fn document_edge_responses(openapi: &mut OpenApi) {
    openapi.merge(<ErrorSchemas as utoipa::OpenApi>::openapi());
    for item in openapi.paths.paths.values_mut() {
        let path_has_parameters = item.parameters.as_ref().is_some_and(|p| !p.is_empty());
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
        OpenApiBuilder, PathsBuilder,
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
                    .name("limit")
                    .parameter_in(ParameterIn::Query),
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
        assert!(openapi
            .components
            .unwrap()
            .schemas
            .contains_key("ErrorBody"));
    }
}
