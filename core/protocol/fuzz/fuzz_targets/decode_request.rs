#![no_main]
//! The init decodes whatever arrives on its socket: it must never panic or over-allocate.
use libfuzzer_sys::fuzz_target;
use scpool_protocol::codec::{decode_request, encode_request};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = decode_request(data) {
        // What decodes must encode back to the same bytes.
        assert_eq!(encode_request(&request), data);
    }
});
