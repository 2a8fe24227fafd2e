//! Typed helpers over the services' public HTTP APIs, one file per service. Nothing here
//! looks behind a service's back: what a test asserts is what a client could see.

pub mod audit;
pub mod complaints;
pub mod event_store;
pub mod notifications;

use crate::suite::{Service, Suite};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What a service answered.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Value,
}

impl Reply {
    /// The body as `T`, from a 2xx answer.
    pub fn json<T: DeserializeOwned>(self, what: &str) -> T {
        assert!(
            self.status.is_success(),
            "{what}: {} {}",
            self.status,
            self.body
        );
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("{what}: unexpected shape ({e}): {}", self.body))
    }
}

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
        let mut request = self.http.request(method, &url);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{} answers {url}: {e}", service.name()));
        let status = response.status();
        let bytes = response.bytes().await.expect("a body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!(
                    "{url}: {status}: not JSON: {}",
                    String::from_utf8_lossy(&bytes)
                )
            })
        };
        Reply { status, body }
    }

    pub(crate) async fn get(&self, service: &Service, path: &str) -> Reply {
        self.call(service, Method::GET, path, &[], None).await
    }
}
