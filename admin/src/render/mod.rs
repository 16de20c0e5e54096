//! Pure output builders shared by the CLI, the stats page and `ctl`.

pub mod field;
pub mod fields_table;
pub mod info;
pub mod maps;
pub mod servers;
pub mod stat;
pub mod stat_rows;
