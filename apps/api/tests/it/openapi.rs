//! The OpenAPI document lists exactly the router's routes.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use purse_api::http::openapi::{document, path_parameters};
use purse_api::http::routes::table;

use crate::support::TestApp;

fn documented(test_clock: bool) -> BTreeSet<(String, String)> {
    let document = document(test_clock);
    let mut routes = BTreeSet::new();
    for (path, methods) in document["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            routes.insert((method.to_uppercase(), path.clone()));
        }
    }
    routes
}

#[tokio::test]
async fn every_documented_route_is_served_and_every_served_route_is_documented() {
    let app = TestApp::new();
    let routes: BTreeSet<(String, String)> = table(true)
        .iter()
        .map(|spec| (spec.method.to_string(), spec.path.to_owned()))
        .collect();

    assert_eq!(documented(true), routes);
    for (method, path) in &routes {
        let mut concrete = path.clone();
        for name in path_parameters(path) {
            concrete = concrete.replace(&format!("{{{name}}}"), "x");
        }
        let answer = app
            .call(
                Method::from_bytes(method.as_bytes()).unwrap(),
                &concrete,
                None,
                None,
                &[],
            )
            .await;
        assert_ne!(
            answer.code(),
            "route_not_found",
            "{method} {path} is not routed"
        );
        assert_ne!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
}

#[tokio::test]
async fn an_unknown_route_is_404_in_the_envelope() {
    let app = TestApp::new();

    let answer = app.call(Method::GET, "/v1/nothing", None, None, &[]).await;

    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.code(), "route_not_found");
}

#[tokio::test]
async fn a_wrong_method_is_405_in_the_envelope() {
    let app = TestApp::new();

    let answer = app.call(Method::DELETE, "/healthz", None, None, &[]).await;

    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.code(), "method_not_allowed");
}

#[test]
fn without_the_test_clock_its_routes_are_not_documented() {
    let routes = documented(false);

    assert!(!routes.iter().any(|(_, path)| path.contains("test-clock")));
    assert!(
        documented(true)
            .iter()
            .any(|(_, path)| path.contains("test-clock"))
    );
}
