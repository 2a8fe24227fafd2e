//! Typed helpers over the services' public HTTP APIs, one file per service. Nothing here
//! looks behind a service's back: what a test asserts is what a client could see.

pub mod audit;
pub mod complaints;
pub mod event_store;
pub mod notifications;

use crate::suite::{Service, Suite};
use reqwest::Method;
use serde_json::Value;
use shared::test_support::with_headers;
pub use shared::test_support::Reply;

impl Suite {
    pub(crate) async fn call(
        &self,
        service: &Service,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> Reply {
        let url = format!("{}{path}", service.address());
        let mut request = with_headers(self.http.request(method, &url), headers);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} answers {url}: {e}", service.name()));
        Reply::read(response).await
    }

    pub(crate) async fn get(&self, service: &Service, path: &str) -> Reply {
        self.call(service, Method::GET, path, &[], None).await
    }
}
