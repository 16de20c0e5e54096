//! HTTP checks: the request bytes (`option httpchk`, `http-check send`) and
//! the verdict on a response (`http-check expect`, `disable-on-404`).

pub mod request;
pub mod response;
