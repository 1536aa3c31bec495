//! `site-gen serve`: the site and the request desk on 127.0.0.1, rebuilt
//! and reloaded in the browser on every change.

mod reload;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

use crate::build::{BuildOptions, build};
use crate::diagnostics::Error;

pub use reload::Reloader;

/// Builds the site, then serves it until interrupted.
pub fn run(mut options: BuildOptions, port: u16, data_dir: PathBuf) -> Result<(), Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Output(format!("cannot start the server: {e}")))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port)))
            .await
            .map_err(|e| {
                Error::Output(format!(
                    "cannot listen on 127.0.0.1:{port}: {e}; pick another --port"
                ))
            })?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::Output(format!("cannot read the server's address: {e}")))?;
        options.base_url = Some(format!("http://{address}"));
        options.live_reload = true;
        if options.out.is_none() {
            options.out = Some(data_dir.join("preview"));
        }
        let reloader = Arc::new(Reloader::default());
        rebuild(&options, &reloader);
        let _watcher = watch::watch(options.clone(), Arc::clone(&reloader))?;
        let app = app(&options.out_dir(), Arc::clone(&reloader));
        println!("Serving http://{address}/ (Ctrl-C to stop)");
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Error::Output(format!("the server stopped: {e}")))
    })
}

/// The whole local service: the live-reload endpoints and the built site.
pub fn app(site_dir: &std::path::Path, reloader: Arc<Reloader>) -> Router {
    let files = ServeDir::new(site_dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(site_dir.join("404.html")));
    reload::routes(reloader).fallback_service(files)
}

/// Builds once, reporting to the terminal and to open browser pages. A
/// failed build leaves the last good site in place.
pub fn rebuild(options: &BuildOptions, reloader: &Reloader) {
    match build(options) {
        Ok(summary) => {
            println!("Built {summary}");
            reloader.built();
        }
        Err(err) => {
            eprintln!("error: {err}");
            reloader.failed(err.to_string());
        }
    }
}
