//! The creator studio: a section of the Mini App where creators upload, publish and sell, see
//! their sales and refund buyers. Its pages load everything in the browser from the studio's
//! JSON API (`/api/studio/*`), which checks the caller's role on every request.

pub mod charges;
pub mod client;
pub mod deals;
pub mod pages;
pub mod strings;
pub mod tip;
pub mod types;
