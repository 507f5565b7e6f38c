//! The `purse` binary.

fn main() {}
