//! Who is calling: bearer tokens (JWT) checked on every route of every service, and the
//! roles each route admits (issue 14).
//!
//! - [`settings`]: where the keys come from (an HS256 secret locally; a PEM public key or a
//!   JWKS URL in production), the issuer and audience expected;
//! - [`keys`]: those keys, with the JWKS fetched and cached;
//! - [`verify`]: a token to a [`Principal`], or why not ([`AuthError`]);
//! - [`access`]: the per-route table of roles and the middleware that enforces it;
//! - [`principal`]: the caller as handlers see it (an extractor).
//!
//! Tokens are minted by [`mint`] (`make token`, the test harnesses).

pub mod access;
pub mod claims;
pub mod keys;
pub mod mint;
pub mod principal;
pub mod roles;
pub mod settings;
pub mod verify;

pub use access::{Access, Rule};
pub use claims::Claims;
pub use principal::Principal;
pub use roles::Role;
pub use settings::AuthSettings;
pub use verify::{AuthError, Verifier};
