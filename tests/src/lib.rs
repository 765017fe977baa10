pub mod browser;
pub mod cas;
pub mod flows;
pub mod op;
pub mod process;
