//! The route table: every route of the app, with what the OpenAPI document says about it.
//! The router and `/openapi.json` are both built from [`table`], so they cannot drift apart.

pub mod balance;
pub mod charges;
pub mod commerce;
pub mod cost_tickets;
pub mod gateway;
pub mod health;
pub mod payments;
pub mod payments_admin;
pub mod payments_methods;
pub mod payments_settings;
pub mod payments_views;
pub mod payments_webhooks;
pub mod reservations;
pub mod rules;
pub mod sandbox;
pub mod tenancy;
pub mod test_clock;
pub mod tokens;
pub mod transactions;
pub mod wallet_settings;
pub mod wallets;
pub mod wallets_admin;

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{self, MethodRouter};

use super::AppState;

/// One route: method, path, its handler, and what the document says about it.
#[derive(Debug)]
pub struct RouteSpec {
    /// The HTTP method.
    pub method: Method,
    /// The path, axum syntax (`/v1/wallets/{id}`), which is also OpenAPI's.
    pub path: &'static str,
    /// One line for the document.
    pub summary: &'static str,
    /// Who may call it (the document's description).
    pub roles: &'static str,
    /// The OpenAPI tag.
    pub tag: &'static str,
    /// Whether it needs a bearer token.
    pub auth: bool,
    /// Whether it honours `Idempotency-Key`.
    pub idempotent: bool,
    /// The status of a success.
    pub success_status: u16,
    /// The handler.
    pub handler: MethodRouter<AppState>,
}

impl RouteSpec {
    fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Self {
        Self {
            method,
            path,
            summary: "",
            roles: "",
            tag: "",
            auth: true,
            idempotent: false,
            success_status: 200,
            handler,
        }
    }

    /// The summary line.
    #[must_use]
    pub fn summary(mut self, summary: &'static str) -> Self {
        self.summary = summary;
        self
    }

    /// Who may call it.
    #[must_use]
    pub fn roles(mut self, roles: &'static str) -> Self {
        self.roles = roles;
        self
    }

    /// The tag.
    #[must_use]
    pub fn tag(mut self, tag: &'static str) -> Self {
        self.tag = tag;
        self
    }

    /// No bearer token needed.
    #[must_use]
    pub fn public(mut self) -> Self {
        self.auth = false;
        self
    }

    /// Honours `Idempotency-Key`.
    #[must_use]
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Answers 201 on success.
    #[must_use]
    pub fn created(mut self) -> Self {
        self.success_status = 201;
        self
    }

    /// Answers 204 on success.
    #[must_use]
    pub fn no_content(mut self) -> Self {
        self.success_status = 204;
        self
    }
}

/// A GET route.
pub fn get<H, T>(path: &'static str, handler: H) -> RouteSpec
where
    H: Handler<T, AppState>,
    T: 'static,
{
    RouteSpec::new(Method::GET, path, routing::get(handler))
}

/// A POST route.
pub fn post<H, T>(path: &'static str, handler: H) -> RouteSpec
where
    H: Handler<T, AppState>,
    T: 'static,
{
    RouteSpec::new(Method::POST, path, routing::post(handler))
}

/// A PUT route.
pub fn put<H, T>(path: &'static str, handler: H) -> RouteSpec
where
    H: Handler<T, AppState>,
    T: 'static,
{
    RouteSpec::new(Method::PUT, path, routing::put(handler))
}

/// A PATCH route.
pub fn patch<H, T>(path: &'static str, handler: H) -> RouteSpec
where
    H: Handler<T, AppState>,
    T: 'static,
{
    RouteSpec::new(Method::PATCH, path, routing::patch(handler))
}

/// A DELETE route.
pub fn delete<H, T>(path: &'static str, handler: H) -> RouteSpec
where
    H: Handler<T, AppState>,
    T: 'static,
{
    RouteSpec::new(Method::DELETE, path, routing::delete(handler))
}

/// Every route. The test clock's routes exist only when it is enabled.
pub fn table(test_clock: bool) -> Vec<RouteSpec> {
    let mut routes = Vec::new();
    routes.extend(health::routes());
    routes.extend(tenancy::routes());
    routes.extend(tokens::routes());
    routes.extend(wallets::routes());
    routes.extend(commerce::routes());
    routes.extend(balance::routes());
    routes.extend(transactions::routes());
    routes.extend(wallets_admin::routes());
    routes.extend(wallet_settings::routes());
    routes.extend(gateway::routes());
    routes.extend(reservations::routes());
    routes.extend(charges::routes());
    routes.extend(cost_tickets::routes());
    routes.extend(payments::routes());
    routes.extend(payments_settings::routes());
    routes.extend(payments_methods::routes());
    routes.extend(payments_webhooks::routes());
    routes.extend(payments_admin::routes());
    routes.extend(sandbox::routes());
    if test_clock {
        routes.extend(test_clock::routes());
    }
    routes
}
