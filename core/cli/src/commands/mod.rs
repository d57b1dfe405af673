//! One module per subcommand: its options as clap definitions.

pub mod bench;
pub mod exec;
pub mod image;
pub mod ps;
pub mod rm;
pub mod run;
pub mod serve;
pub mod stop;
pub mod supervise;
