//! What a service answered over HTTP, read the same way by every crate's tests: the status,
//! the headers and the body as JSON (`Null` when there is none).

use reqwest::{header::HeaderMap, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Sends `request` and reads the answer; panics if the service does not answer.
    pub async fn send(request: RequestBuilder) -> Reply {
        let response = request.send().await.expect("the service answers");
        Reply::read(response).await
    }

    /// Reads `response`. Every API of the suite answers JSON, so any other body fails the
    /// test, naming the URL and showing what came instead.
    pub async fn read(response: Response) -> Reply {
        let status = response.status();
        let headers = response.headers().clone();
        let url = response.url().clone();
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
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `error.code` of an error answer (`""` for any other).
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// The `error.message` of an error answer (`""` for any other).
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// The `id` of the answer.
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_owned()
    }

    /// The `version` of the answer.
    pub fn version(&self) -> i64 {
        self.body["version"].as_i64().expect("a version")
    }

    /// The body as `T`, from a 2xx answer.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        self.expect_json("the answer")
    }

    /// The body as `T`, from a 2xx answer; `what` names it when the test fails.
    pub fn expect_json<T: DeserializeOwned>(&self, what: &str) -> T {
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

/// `request` with `headers` added (a test's own `Authorization` replaces the client's).
pub fn with_headers(mut request: RequestBuilder, headers: &[(&str, &str)]) -> RequestBuilder {
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request
}
