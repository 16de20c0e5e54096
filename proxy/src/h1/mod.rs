//! The client-facing HTTP/1.1 codec. We parse and write HTTP/1 ourselves
//! (httparse for the head) rather than use hyper's server because HAProxy
//! compatibility needs control hyper does not give: its exact 400/408 pages
//! (capitalised headers, `Connection: close`), a 408 when `timeout
//! http-request` expires (hyper closes silently), distinct keep-alive and
//! request timeouts, no added `date` header, exact byte counts for `%B`, and
//! `Connection: close` on the last response of a soft stop. The upstream
//! side (module `upstream`) reuses the reader and the body decoder.

mod body;
mod head;
mod lenient;
mod reader;
mod spare;
mod target;
pub(crate) mod websocket;
mod write;

pub(crate) use body::{chunked_prefix_invalid, BodyError, BodyPump, BodySender, Decoder, ReqBody};
pub(crate) use head::{
    chunked, close_or_keep_alive, content_length, keeps_alive, one_length, only_chunked,
    parse_head, plain_number, Framing, HeadError, ReqHead, MAX_HEADERS,
};
pub(crate) use reader::ClientRead;
pub(crate) use reader::Reader;
pub(crate) use write::{
    chunk_size_line, encode_body_frame, encode_head, htx_head_size, htx_size_raw,
    htx_trailers_size, RespFraming,
};
