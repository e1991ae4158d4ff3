//! The server's integration tests, in one binary: the server and its dependencies are linked once,
//! not once per file. One module per area; `common` holds what they share.
//!
//! `cargo test -p server --test it` runs them all, `cargo test -p server --test it payments::`
//! one area, and any test by (part of) its name as before.

mod common;

mod audio;
mod bundles;
mod concurrency;
mod crash;
mod deals;
mod dev_preview;
mod downloads;
mod emulator;
mod first_load;
mod fuzz;
mod gifts;
mod http;
mod inline;
mod licenses;
mod memberships;
mod payments;
mod reach;
mod reader;
mod replicas;
mod reviews;
mod stamping;
mod storage_s3;
mod studio;
mod support;
mod telegram;
mod videos;
