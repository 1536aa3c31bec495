//! Where a build's time goes: one debug event per phase, under the
//! `site_gen::timing` target (`RUST_LOG=site_gen::timing=debug`), for the
//! benchmark and for anyone finding out why a build is slow. Costs an
//! `Instant::now()` per phase when off.

use std::time::Instant;

pub struct Phases {
    build: &'static str,
    last: Instant,
}

impl Phases {
    pub fn start(build: &'static str) -> Phases {
        Phases {
            build,
            last: Instant::now(),
        }
    }

    /// The phase that ends now.
    pub fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        let us = now.duration_since(self.last).as_micros() as u64;
        tracing::debug!(target: "site_gen::timing", build = self.build, phase, us);
        self.last = now;
    }
}
