//! The physical floor for the benchmark (`bench/run.sh`): a minimal axum server
//! on the same runtime as `commerce serve` (multi-threaded tokio, hyper HTTP/1
//! with keep-alive) that answers `GET /` with a static 200 and does nothing else.
//! Every route's CPU per request is reported as a ratio to this one.
//!
//! Usage: `bare_floor ADDR` (e.g. 127.0.0.1:0); prints `listening on ADDR`.

use axum::routing::get;
use axum::Router;

fn main() -> std::process::ExitCode {
    let Some(addr) = std::env::args().nth(1) else {
        eprintln!("usage: bare_floor ADDR");
        return std::process::ExitCode::from(2);
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let served = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        println!("listening on {}", listener.local_addr()?);
        let app = Router::new().route("/", get(|| async { "ok" }));
        axum::serve(listener, app).await
    });
    match served {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
