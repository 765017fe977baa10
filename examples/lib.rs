//! What the example binaries share, so every adapter's example reads the same environment and answers
//! the same way: [`settings`] (the `GENAUTH_*` variables) and [`pages`] (the bodies the routes return).

pub mod pages;
pub mod settings;

pub use settings::{Settings, exit_with};
