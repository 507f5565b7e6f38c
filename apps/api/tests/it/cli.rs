//! The real `purse` binary: subcommands, exit codes, signals.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn purse(database: &std::path::Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_purse"));
    command
        .env_clear()
        .env(
            "PURSE_DATABASE_URL",
            format!("sqlite://{}", database.display()),
        )
        .env("PURSE_LOG", "info");
    command
}

#[test]
fn token_create_prints_the_token_alone_and_audit_of_a_sound_database_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("purse.db");

    let minted = purse(&database)
        .args([
            "token",
            "create",
            "--role",
            "platform_admin",
            "--name",
            "ops",
        ])
        .output()
        .unwrap();
    let audit = purse(&database).arg("audit").output().unwrap();
    let refused = purse(&database)
        .args(["token", "create", "--role", "member"])
        .output()
        .unwrap();

    assert!(minted.status.success());
    let stdout = String::from_utf8(minted.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    assert!(stdout.starts_with("purse_"));
    assert_eq!(audit.status.code(), Some(0));
    assert!(
        String::from_utf8(audit.stdout)
            .unwrap()
            .contains("0 breaches")
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(refused.stdout.is_empty());
}

#[test]
fn help_lists_every_environment_variable() {
    let help = Command::new(env!("CARGO_BIN_EXE_purse"))
        .arg("--help")
        .output()
        .unwrap();

    let text = String::from_utf8(help.stdout).unwrap();
    for variable in [
        "PURSE_DATABASE_URL",
        "PURSE_LISTEN",
        "PURSE_PUBLIC_URL",
        "PURSE_BOOTSTRAP_TOKEN",
        "PURSE_MASTER_KEY",
        "PURSE_PAYPAL_BASE_URL",
        "PURSE_REVOLUT_BASE_URL",
        "PURSE_LOG",
        "PURSE_TEST_CLOCK",
    ] {
        assert!(text.contains(variable), "--help misses {variable}");
    }
}

#[test]
fn serve_stops_gracefully_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = purse(&dir.path().join("purse.db"))
        .env("PURSE_LISTEN", "127.0.0.1:0")
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut address = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("purse is serving") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            address = log["fields"]["address"].as_str().map(str::to_owned);
            break;
        }
    }
    // Keep draining the logs so the child never writes into a full or closed pipe.
    let drain = std::thread::spawn(move || lines.map_while(Result::ok).count());
    let address = address.expect("the server logs its address");
    let health = std::net::TcpStream::connect(&address);
    assert!(
        health.is_ok(),
        "the server accepts connections at {address}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "purse did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(drain.join().unwrap() >= 1, "it logs its shutdown");
}
