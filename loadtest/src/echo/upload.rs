//! Reading a request body frame by frame, never holding it whole.

use http_body::Body;
use http_body_util::BodyExt;

/// Length and CRC-32 (IEEE, as `crc32fast` and zlib compute it) of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyDigest {
    pub length: u64,
    pub crc32: u32,
}

/// Consumes `body`, keeping only its running length and checksum.
pub async fn digest<B>(mut body: B) -> Result<BodyDigest, B::Error>
where
    B: Body<Data = bytes::Bytes> + Unpin,
{
    let mut hasher = crc32fast::Hasher::new();
    let mut length = 0u64;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            length += data.len() as u64;
            hasher.update(data);
        }
    }
    Ok(BodyDigest {
        length,
        crc32: hasher.finalize(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use http_body_util::Full;

    #[tokio::test]
    async fn digests_length_and_crc() {
        let d = digest(Full::new(Bytes::from_static(b"hello world"))).await;
        assert_eq!(
            d.ok(),
            Some(BodyDigest {
                length: 11,
                crc32: 0x0d4a_1185
            })
        );
    }
}
