use audit_service::{app::App, config::Config};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = Config::load()?;
    shared::telemetry::init_logging(&config.log_level);
    let app = App::build(config).await?;
    tracing::info!(port = app.port(), "audit-service listening");
    app.run(shared::lifecycle::shutdown_on_signal()).await
}
