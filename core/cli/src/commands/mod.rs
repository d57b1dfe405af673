//! One module per subcommand: its options as clap definitions.

pub mod bench;
pub mod run;
pub mod serve;
