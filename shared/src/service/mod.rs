//! The skeleton every service is built on, so that a reader who knows one service knows all
//! four. A service brings what is its own (its connections and migrations, its routes, its
//! background tasks) as [`Parts`], from its config's [`Assemble`] implementation; the
//! skeleton ([`App`]) binds the port first, adds the operations surface (probes, metrics,
//! dead letters, OpenAPI, bearer tokens), starts the background tasks and the monitor when
//! the service runs, and stops everything in order. [`ServiceSettings`] are the sections of
//! every service's config.

mod app;
mod settings;

pub use app::{App, Assemble, Parts};
pub use settings::{load, ServiceSettings};
