# Thin mirror of the usual commands; CI runs ./.ci/run, not this file.

default:
    @just --list

run:
    cargo run -p purse-api --bin purse -- serve

test:
    cargo test --workspace --locked

fmt:
    cargo fmt --all

lint:
    cargo fmt --all --check && cargo clippy --workspace --all-targets --locked -- -D warnings

bench:
    cargo bench -p ledger-core

ci:
    ./.ci/run

pg-up:
    pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start
