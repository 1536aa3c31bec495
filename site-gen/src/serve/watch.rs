//! Watching the site's sources and rebuilding when they change.

use std::path::{Path, PathBuf};
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

/// What the watcher saw in one event, or in several gathered since the
/// last rebuild.
#[derive(Default)]
struct Seen {
    paths: Vec<PathBuf>,
    /// Worth a rebuild: not only editors' swap files.
    wakes: bool,
    /// Changes what the desk serves.
    desk: bool,
    /// Events were lost or cannot be placed: what changed is unknown.
    rescan: bool,
}

impl Seen {
    fn add(&mut self, seen: Seen) {
        self.paths.extend(seen.paths);
        self.wakes |= seen.wakes;
        self.desk |= seen.desk;
        self.rescan |= seen.rescan;
    }
}

/// Watching what a build reads (never the output), started before the
/// first build so that no change made while it runs is missed.
pub struct Watch {
    watcher: notify::RecommendedWatcher,
    receiver: mpsc::Receiver<Seen>,
}

impl Watch {
    pub fn start(options: &BuildOptions) -> Result<Watch, Error> {
        let (sender, receiver) = mpsc::channel();
        // Only forms, templates, static files and the configuration change
        // what the desk serves; a page edit leaves it as it is.
        let content = options.root.join("content");
        let desk_inputs = content.join(crate::content::FORMS_DIR);
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let seen = match event {
                    Ok(event) if event.kind.is_access() => return,
                    Ok(event) if event.need_rescan() => Seen {
                        paths: Vec::new(),
                        wakes: true,
                        desk: true,
                        rescan: true,
                    },
                    Ok(event) => {
                        if event.paths.is_empty() {
                            return;
                        }
                        // Swap files wake no build, but are still passed on:
                        // a full build would list whatever is on disk.
                        let meant: Vec<&PathBuf> =
                            event.paths.iter().filter(|p| !is_editor_noise(p)).collect();
                        Seen {
                            wakes: !meant.is_empty(),
                            desk: meant
                                .iter()
                                .any(|p| !p.starts_with(&content) || p.starts_with(&desk_inputs)),
                            rescan: false,
                            paths: event.paths,
                        }
                    }
                    Err(_) => Seen {
                        paths: Vec::new(),
                        wakes: true,
                        desk: true,
                        rescan: true,
                    },
                };
                let _ = sender.send(seen);
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
        Ok(Watch { watcher, receiver })
    }

    /// Rebuilds on every change from now on, in a thread of its own. The
    /// watcher stops when the returned value is dropped.
    pub fn rebuild_on_change(
        self,
        mut rebuilder: Rebuilder,
        reloader: Arc<Reloader>,
        desk: LocalDesk,
    ) -> notify::RecommendedWatcher {
        let receiver = self.receiver;
        std::thread::spawn(move || {
            while let Ok(first) = receiver.recv() {
                let mut batch = Seen::default();
                batch.add(first);
                while !batch.wakes {
                    match receiver.recv() {
                        Ok(more) => batch.add(more),
                        Err(_) => return,
                    }
                }
                while let Ok(more) = receiver.recv_timeout(SETTLE) {
                    batch.add(more);
                }
                let changed = (!batch.rescan).then_some(&batch.paths[..]);
                rebuilder.run(&reloader, batch.desk.then_some(&desk), changed);
            }
        });
        self.watcher
    }
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
