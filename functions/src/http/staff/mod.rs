//! The staff app at `/desk/`: queues, tickets and their actions, reports.
//! Server-rendered through the theme, so it works without script on the
//! front desk's PC and on a phone on rounds; every page and action also
//! answers JSON when asked (`Accept: application/json`), on the same routes.

mod queue;
mod reports;
mod session;
mod signin;
mod ticket;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

pub use session::{SESSION_COOKIE, SIGNIN_COOKIE};

use crate::desk::Desk;

pub fn routes() -> Router<Arc<Desk>> {
    Router::new()
        .route("/desk", get(|| async { super::reply::see_other("desk/") }))
        .route("/desk/", get(queue::queue))
        .route("/desk/signin", get(signin::page).post(signin::submit))
        .route("/desk/signout", post(signin::sign_out))
        .route("/desk/tickets/{reference}", get(ticket::page))
        .route("/desk/tickets/{reference}/{action}", post(ticket::act))
        .route("/desk/reports", get(reports::monthly))
        .route("/desk/staff", get(reports::staff))
}
