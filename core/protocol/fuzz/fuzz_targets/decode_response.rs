#![no_main]
//! The host decodes what its container's init sends: never a panic.
use libfuzzer_sys::fuzz_target;
use scpool_protocol::codec::{decode_response, encode_response};

fuzz_target!(|data: &[u8]| {
    if let Ok(response) = decode_response(data) {
        assert_eq!(encode_response(&response), data);
    }
});
