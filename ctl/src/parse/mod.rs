//! Pure parsers for the replies this client reads. Columns are found by header name,
//! not position, so the same code reads 2.6 and later layouts (and switchyard's).

mod conns;
mod map;
mod stat;

pub use conns::{parse_servers_conn, ServerConns};
pub use map::{parse_show_map, MapEntry};
pub use stat::{parse_show_stat, RowKind, StatRow};
