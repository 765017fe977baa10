pub mod browser;
pub mod cas;
pub mod op;
