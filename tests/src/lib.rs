pub mod browser;
pub mod op;
