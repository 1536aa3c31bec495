//! `site-gen serve`: the site and the request desk on 127.0.0.1, rebuilt
//! and reloaded in the browser on every change.

mod listen;
mod reload;
mod watch;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use config::Config;
use desk::local::LocalDesk;
use tower_http::services::{ServeDir, ServeFile};

use crate::build::{BuildOptions, build_tracked, rebuild, rebuild_changed};
use crate::diagnostics::Error;
use crate::render::Produced;

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
        let watch = watch::Watch::start(&options)?;
        let mut rebuilder = Rebuilder::new(options.clone());
        rebuilder.run(&reloader, None, None);
        let files = Router::new().fallback_service(site_files(&options.out_dir()));
        let config = desk_config(&options)?;
        let desk = LocalDesk::start(options.root.clone(), config.clone(), data_dir, files)
            .await
            .map_err(|e| Error::Output(format!("cannot start the request desk: {e}")))?;
        let _watcher = watch.rebuild_on_change(rebuilder, Arc::clone(&reloader), desk.clone());
        // The static pages get the headers the desk's pages have, so a
        // page that breaks under production's CSP breaks here too.
        let app = desk::http::with_security_headers(
            reload::routes(Arc::clone(&reloader)).merge(desk.router()),
            &config,
            false,
        );
        let reloader = Arc::clone(&reloader);
        println!("Serving http://{address}/ (Ctrl-C to stop)");
        listen::serve(listener, app, listen::Limits::default(), async move {
            let _ = tokio::signal::ctrl_c().await;
            reloader.closing();
        })
        .await;
        Ok(())
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

/// Builds after each change, reporting to the terminal and to open
/// browser pages. After the first full build only what an edit can have
/// changed is rendered again. A failed build leaves the last good site
/// (and desk) in place.
pub struct Rebuilder {
    options: BuildOptions,
    /// What the last good build wrote; `None` until one succeeded.
    produced: Option<Produced>,
}

impl Rebuilder {
    pub fn new(options: BuildOptions) -> Rebuilder {
        Rebuilder {
            options,
            produced: None,
        }
    }

    /// Builds again; `changed` lists every path changed since the last
    /// build, when known.
    pub fn run(
        &mut self,
        reloader: &Reloader,
        desk: Option<&LocalDesk>,
        changed: Option<&[PathBuf]>,
    ) {
        let result = match (&mut self.produced, changed) {
            (Some(previous), Some(changed)) => rebuild_changed(
                &self.options,
                previous,
                changed.iter().map(PathBuf::as_path),
            ),
            (Some(previous), None) => rebuild(&self.options, previous),
            (None, _) => build_tracked(&self.options).map(|(summary, produced)| {
                self.produced = Some(produced);
                summary
            }),
        };
        match result {
            Ok(summary) => {
                println!("Built {summary}");
                reloader.built();
                // After the reload is on its way: the desk only needs to
                // catch up before the next form is posted.
                if let Some(desk) = desk {
                    let reloaded = desk_config(&self.options).and_then(|config| {
                        desk.reload(config).map_err(|e| {
                            Error::Output(format!("the request desk kept its old forms: {e}"))
                        })
                    });
                    if let Err(e) = reloaded {
                        eprintln!("error: {e}");
                    }
                }
            }
            Err(err) => {
                eprintln!("error: {err}");
                reloader.failed(err.to_string());
            }
        }
    }
}
