use complaint_service::{app, config::Config};

/// `complaint-service` serves; `complaint-service rebuild-projections` rebuilds the read
/// model from the event store and exits.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    shared::telemetry::init_logging(&config.log_level);
    match std::env::args().nth(1).as_deref() {
        None => {}
        Some("rebuild-projections") => {
            let rebuilt = app::rebuild_projections(config).await?;
            tracing::info!(?rebuilt, "done");
            return Ok(());
        }
        Some(other) => anyhow::bail!("unknown command {other:?}; try rebuild-projections"),
    }
    let app = app::App::build(config).await?;
    tracing::info!(port = app.port(), "complaint-service listening");
    app.run(shared::lifecycle::shutdown_on_signal()).await
}
