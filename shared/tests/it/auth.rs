//! Production keys: tokens signed by an identity provider with ES256, checked against its
//! JWKS (served by a tiny HTTP server in the test) or against its PEM public key.

use axum::{routing::get, Json, Router};
use base64::{engine::general_purpose, Engine};
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use ring::{
    rand::SystemRandom,
    signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING},
};
use serde_json::json;
use shared::auth::{
    mint::{sign, TokenSpec},
    AuthError, AuthSettings, Role, Verifier,
};
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};

/// An identity provider's P-256 key: its PKCS#8 document (to sign) and public point.
struct ProviderKey {
    pkcs8: Vec<u8>,
    public: Vec<u8>,
}

impl ProviderKey {
    fn generate() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("a key")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .expect("the key reads back");
        let public = pair.public_key().as_ref().to_vec();
        Self { pkcs8, public }
    }

    fn jwk(&self, kid: &str) -> serde_json::Value {
        let b64 = |bytes: &[u8]| general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": b64(&self.public[1..33]), "y": b64(&self.public[33..65]),
        })
    }

    /// The SubjectPublicKeyInfo PEM of the key (id-ecPublicKey, prime256v1).
    fn public_pem(&self) -> String {
        let mut der = hex_bytes("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        der.extend_from_slice(&self.public);
        let body = general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    fn sign(&self, kid: Option<&str>, spec: &TokenSpec) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = kid.map(str::to_owned);
        let claims = spec.claims(&AuthSettings::default());
        encode(&header, &claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("signed")
    }
}

fn hex_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

/// Serves `jwks` at `/jwks`; counts the fetches.
async fn serve_jwks(jwks: serde_json::Value) -> (String, Arc<AtomicUsize>) {
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let app = Router::new().route(
        "/jwks",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            let jwks = jwks.clone();
            async move { Json(jwks) }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/jwks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, fetches)
}

fn agent() -> TokenSpec {
    TokenSpec::new("agent-001", &[Role::Agent]).agent("agent-001")
}

#[tokio::test]
async fn a_token_signed_with_a_key_of_the_providers_jwks_is_accepted() {
    let key = ProviderKey::generate();
    let (url, fetches) = serve_jwks(json!({ "keys": [key.jwk("k1")] })).await;
    let verifier = Verifier::new(&AuthSettings {
        jwks_url: Some(url),
        ..AuthSettings::default()
    })
    .await
    .expect("the verifier");

    let principal = verifier
        .verify(&key.sign(Some("k1"), &agent()))
        .await
        .expect("a token of the provider's key");
    assert_eq!(principal.subject, "agent-001");
    assert!(principal.has(Role::Agent));
    assert_eq!(principal.agent_id.as_deref(), Some("agent-001"));

    let stranger = ProviderKey::generate();
    assert_eq!(
        verifier.verify(&stranger.sign(Some("k1"), &agent())).await,
        Err(AuthError::BadSignature),
        "another key under the same kid"
    );
    assert_eq!(
        verifier.verify(&key.sign(Some("k9"), &agent())).await,
        Err(AuthError::BadSignature),
        "a kid the provider does not publish"
    );
    assert_eq!(
        verifier.verify(&key.sign(None, &agent())).await,
        Err(AuthError::BadSignature),
        "no kid"
    );
    let hs256 = sign(
        &agent().claims(&AuthSettings::default()),
        "a-shared-secret-of-32-bytes-or-more",
    );
    assert!(
        verifier.verify(&hs256).await.is_err(),
        "HS256 where the provider signs ES256"
    );
    assert_eq!(
        fetches.load(Ordering::SeqCst),
        1,
        "the JWKS is cached: an unknown kid refetches at most every 10 s"
    );
}

#[tokio::test]
async fn a_provider_that_cannot_be_reached_makes_tokens_unverifiable_not_valid() {
    let key = ProviderKey::generate();
    let verifier = Verifier::new(&AuthSettings {
        jwks_url: Some("http://127.0.0.1:9/jwks".into()),
        ..AuthSettings::default()
    })
    .await
    .expect("the service starts while its provider is down");
    assert_eq!(
        verifier.verify(&key.sign(Some("k1"), &agent())).await,
        Err(AuthError::KeysUnavailable)
    );
}

#[tokio::test]
async fn a_token_is_checked_against_a_pem_public_key() {
    let key = ProviderKey::generate();
    let verifier = Verifier::new(&AuthSettings {
        public_key_pem: Some(key.public_pem()),
        ..AuthSettings::default()
    })
    .await
    .expect("the PEM key reads");
    let principal = verifier
        .verify(&key.sign(None, &agent()))
        .await
        .expect("a token of that key");
    assert_eq!(principal.subject, "agent-001");
    let stranger = ProviderKey::generate();
    assert_eq!(
        verifier.verify(&stranger.sign(None, &agent())).await,
        Err(AuthError::BadSignature)
    );
}

#[tokio::test]
async fn a_service_without_a_key_does_not_start() {
    assert!(Verifier::new(&AuthSettings::default()).await.is_err());
    assert!(
        Verifier::new(&AuthSettings::hs256("short")).await.is_err(),
        "a guessable HS256 secret is refused"
    );
}
