//! Watching the site's sources and rebuilding when they change.

use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use desk::local::LocalDesk;
use notify::{RecursiveMode, Watcher};

use crate::build::BuildOptions;
use crate::diagnostics::Error;
use crate::serve::{Rebuilder, Reloader};

/// Changes arriving within this window are built together: one save in an
/// editor is often several file events.
const SETTLE: Duration = Duration::from_millis(15);

/// Watches what a build reads (never the output) and rebuilds on change.
/// The watcher stops when the returned value is dropped.
pub fn watch(
    options: &BuildOptions,
    mut rebuilder: Rebuilder,
    reloader: Arc<Reloader>,
    desk: LocalDesk,
) -> Result<notify::RecommendedWatcher, Error> {
    let (sender, receiver) = mpsc::channel();
    // Only forms, templates, static files and the configuration change what
    // the desk serves; a page edit leaves it as it is.
    let content = options.root.join("content");
    let desk_inputs = content.join(crate::content::FORMS_DIR);
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
        {
            let mut paths = event
                .paths
                .iter()
                .filter(|p| !is_editor_noise(p))
                .peekable();
            if paths.peek().is_some() {
                let _ = sender
                    .send(paths.any(|p| !p.starts_with(&content) || p.starts_with(&desk_inputs)));
            }
        }
    })
    .map_err(|e| Error::Output(format!("cannot watch the site for changes: {e}")))?;
    for name in [
        "content",
        "themes",
        "templates",
        "static",
        config::FILE_NAME,
        config::facts::FILE_NAME,
    ] {
        let path = options.root.join(name);
        if path.exists() {
            watcher
                .watch(&path, RecursiveMode::Recursive)
                .map_err(|e| Error::Output(format!("cannot watch {}: {e}", path.display())))?;
        }
    }
    std::thread::spawn(move || {
        while let Ok(mut desk_changed) = receiver.recv() {
            while let Ok(more) = receiver.recv_timeout(SETTLE) {
                desk_changed |= more;
            }
            rebuilder.run(&reloader, desk_changed.then_some(&desk));
        }
    });
    Ok(watcher)
}

/// Swap and backup files editors write beside the real one.
fn is_editor_noise(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    name.starts_with(".#")
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name == "4913"
}
