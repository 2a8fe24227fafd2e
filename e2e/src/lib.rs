//! No code: this package exists for its tests (`tests/e2e`), which run complaint-service,
//! notification-service, audit-service and event-store-service together. Keeping them here
//! means no service depends on another, not even for its tests.
