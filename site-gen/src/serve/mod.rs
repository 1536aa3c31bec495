//! `site-gen serve`: the site and the request desk on 127.0.0.1, rebuilt
//! and reloaded in the browser on every change.

mod reload;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use config::Config;
use desk::local::LocalDesk;
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
        rebuild(&options, &reloader, None);
        let files = Router::new().fallback_service(site_files(&options.out_dir()));
        let desk = LocalDesk::start(
            options.root.clone(),
            desk_config(&options)?,
            data_dir,
            files,
        )
        .await
        .map_err(|e| Error::Output(format!("cannot start the request desk: {e}")))?;
        let _watcher = watch::watch(options.clone(), Arc::clone(&reloader), desk.clone())?;
        let app = reload::routes(Arc::clone(&reloader)).merge(desk.router());
        println!("Serving http://{address}/ (Ctrl-C to stop)");
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Error::Output(format!("the server stopped: {e}")))
    })
}

/// The built site's files, with its own 404 page.
fn site_files(
    site_dir: &std::path::Path,
) -> ServeDir<tower_http::set_status::SetStatus<ServeFile>> {
    ServeDir::new(site_dir)
        .append_index_html_on_directories(true)
        .not_found_service(ServeFile::new(site_dir.join("404.html")))
}

/// The site configuration as the desk sees it when served locally.
fn desk_config(options: &BuildOptions) -> Result<Config, Error> {
    let mut config =
        Config::from_root(&options.root).map_err(|e| Error::Invalid(vec![e.into()]))?;
    if let Some(base_url) = &options.base_url {
        config.base_url = base_url.clone();
    }
    Ok(config)
}

/// Builds once, reporting to the terminal and to open browser pages. A
/// failed build leaves the last good site (and desk) in place.
pub fn rebuild(options: &BuildOptions, reloader: &Reloader, desk: Option<&LocalDesk>) {
    match build(options) {
        Ok(summary) => {
            println!("Built {summary}");
            if let Some(desk) = desk {
                let reloaded = desk_config(options).and_then(|config| {
                    desk.reload(config).map_err(|e| {
                        Error::Output(format!("the request desk kept its old forms: {e}"))
                    })
                });
                if let Err(e) = reloaded {
                    eprintln!("error: {e}");
                }
            }
            reloader.built();
        }
        Err(err) => {
            eprintln!("error: {err}");
            reloader.failed(err.to_string());
        }
    }
}
