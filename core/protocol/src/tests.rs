//! Round trips, truncations and hostile inputs for the codec and the framing.

use super::codec::*;
use super::frame::{frames, FrameError, Reassembler, FRAME_PAYLOAD};
use super::*;

fn sample_requests() -> Vec<Request> {
    vec![
        Request::Setup(Setup {
            hostname: b"box".to_vec(),
            domainname: b"judge".to_vec(),
            mounts: vec![
                MountSpec {
                    source: b"/usr".to_vec(),
                    target: b"/usr".to_vec(),
                    writable: false,
                    optional: true,
                },
                MountSpec {
                    source: b"/data".to_vec(),
                    target: b"/d".to_vec(),
                    writable: true,
                    optional: false,
                },
            ],
            rootfs: Some(b"/images/debian".to_vec()),
            image_layers: vec![b"/layers/a".to_vec(), b"/layers/\xffb".to_vec()],
            root_size: 1 << 28,
            work_size: 1 << 30,
            tmp_size: 64 << 20,
            uid: 65534,
            gid: 65534,
            user_namespace: true,
        }),
        Request::Ping { nonce: u64::MAX },
        Request::Open(vec![
            OpenEntry {
                path: b"/w/in".to_vec(),
                flags: libc::O_RDONLY,
                mode: 0,
            },
            OpenEntry {
                path: b"/w/\xffout".to_vec(),
                flags: libc::O_RDWR | libc::O_CREAT,
                mode: 0o644,
            },
        ]),
        Request::Execve(ExecRequest {
            args: vec![b"/bin/echo".to_vec(), vec![], b"\xfe".to_vec()],
            env: vec![b"PATH=/bin".to_vec()],
            cwd: b"/w".to_vec(),
            fd_count: 3,
            exec_fd: true,
            rlimits: vec![Rlimit {
                resource: 4,
                soft: 0,
                hard: u64::MAX,
            }],
            seccomp: Some(vec![6, 0, 0, 0, 0, 0, 0xff, 0x7f]),
            wall_limit_ns: 2_000_000_000,
            single_program: true,
            join_cgroup: true,
        }),
        Request::Kill,
        Request::Reset { clear_keys: true },
        Request::Shutdown,
    ]
}

fn sample_responses() -> Vec<Response> {
    let report = |outcome| ExecReport {
        outcome,
        received_ns: 1,
        started_ns: 2,
        ended_ns: u64::MAX,
        user_us: 4,
        system_us: 5,
        maxrss_kib: 6,
        file_size_exceeded: true,
        sigsys_killed: true,
        init_cpu_us: 8,
        wall_time_exceeded: true,
        init_tampered: false,
        replied_ns: 9,
        standby: true,
    };
    vec![
        Response::Ready {
            version: PROTOCOL_VERSION,
        },
        Response::Pong { nonce: 7 },
        Response::Opened { count: 2 },
        Response::Exited(report(Outcome::Exited(-1))),
        Response::Exited(report(Outcome::Signaled(9))),
        Response::Exited(report(Outcome::ExecFailed {
            stage: ExecStage::Chdir,
            errno: 2,
        })),
        Response::ResetDone,
        Response::Error(ErrorReport::system("opening /w/x", nix::errno::Errno::EACCES).at_entry(3)),
        Response::Error(ErrorReport::invalid("bad")),
    ]
}

#[test]
fn every_request_round_trips() {
    for req in sample_requests() {
        assert_eq!(decode_request(&encode_request(&req)), Ok(req));
    }
}

#[test]
fn every_response_round_trips() {
    for resp in sample_responses() {
        assert_eq!(decode_response(&encode_response(&resp)), Ok(resp));
    }
}

#[test]
fn every_truncation_is_an_error() {
    for req in sample_requests() {
        let bytes = encode_request(&req);
        for len in 0..bytes.len() {
            assert!(
                decode_request(&bytes[..len]).is_err(),
                "{req:?} cut at {len}"
            );
        }
    }
    for resp in sample_responses() {
        let bytes = encode_response(&resp);
        for len in 0..bytes.len() {
            assert!(
                decode_response(&bytes[..len]).is_err(),
                "{resp:?} cut at {len}"
            );
        }
    }
}

#[test]
fn trailing_bytes_are_an_error() {
    let mut bytes = encode_request(&Request::Reset { clear_keys: false });
    bytes.push(0);
    assert_eq!(decode_request(&bytes), Err(DecodeError::TrailingBytes(1)));
}

#[test]
fn unknown_tags_are_errors() {
    assert_eq!(
        decode_request(&[0]),
        Err(DecodeError::BadTag {
            what: "request",
            tag: 0
        })
    );
    assert_eq!(
        decode_response(&[200]),
        Err(DecodeError::BadTag {
            what: "response",
            tag: 200
        })
    );
    // A bool that is neither 0 nor 1.
    let mut bytes = encode_request(&Request::Execve(ExecRequest {
        args: vec![],
        env: vec![],
        cwd: vec![],
        fd_count: 0,
        exec_fd: false,
        rlimits: vec![],
        seccomp: None,
        wall_limit_ns: 0,
        single_program: false,
        join_cgroup: false,
    }));
    let exec_fd_at = 1 + 4 + 4 + 4 + 4;
    bytes[exec_fd_at] = 2;
    assert_eq!(
        decode_request(&bytes),
        Err(DecodeError::BadTag {
            what: "bool",
            tag: 2
        })
    );
}

#[test]
fn huge_counts_are_rejected_without_allocating() {
    // An Open claiming u32::MAX entries in a 5-byte message.
    let bytes = [3, 0xff, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode_request(&bytes),
        Err(DecodeError::TooLong { .. })
    ));
    // A Setup whose hostname claims 4 GiB.
    let ping_like = [1u8, 0xff, 0xff, 0xff, 0xff];
    assert!(matches!(
        decode_request(&ping_like),
        Err(DecodeError::TooLong {
            what: "hostname",
            ..
        })
    ));
}

#[test]
fn oversized_messages_are_rejected() {
    let big = vec![0u8; MAX_MESSAGE_BYTES + 1];
    assert!(matches!(
        decode_request(&big),
        Err(DecodeError::TooLong {
            what: "message",
            ..
        })
    ));
}

#[test]
fn random_bytes_never_panic() {
    // xorshift: deterministic, no dependency.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let samples: Vec<Vec<u8>> = sample_requests().iter().map(encode_request).collect();
    for round in 0..20_000 {
        let mut bytes = samples[round % samples.len()].clone();
        // Flip a few bytes of a valid message, or make one up.
        if round % 3 == 0 {
            bytes = (0..next() % 64).map(|_| next() as u8).collect();
        } else {
            for _ in 0..1 + next() % 4 {
                if !bytes.is_empty() {
                    let at = (next() as usize) % bytes.len();
                    bytes[at] = next() as u8;
                }
            }
        }
        let _ = decode_request(&bytes);
        let _ = decode_response(&bytes);
    }
}

#[test]
fn frames_split_and_reassemble() {
    for len in [
        0,
        1,
        FRAME_PAYLOAD - 1,
        FRAME_PAYLOAD,
        FRAME_PAYLOAD + 1,
        3 * FRAME_PAYLOAD + 17,
    ] {
        let message: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let datagrams: Vec<Vec<u8>> = frames(&message).collect();
        assert_eq!(datagrams.len(), len.div_ceil(FRAME_PAYLOAD).max(1));
        let mut joiner = Reassembler::default();
        let (last, rest) = datagrams.split_last().unwrap();
        for d in rest {
            assert_eq!(joiner.push(d), Ok(None));
        }
        assert_eq!(joiner.push(last), Ok(Some(message)));
    }
}

#[test]
fn bad_frames_are_errors() {
    let mut joiner = Reassembler::default();
    assert_eq!(joiner.push(&[]), Err(FrameError::Empty));
    assert_eq!(joiner.push(&[7, 1, 2]), Err(FrameError::BadFlag(7)));
}

#[test]
fn an_oversized_message_is_one_error_and_the_next_message_arrives_whole() {
    let huge = vec![1u8; MAX_MESSAGE_BYTES + 1];
    let mut joiner = Reassembler::default();
    let mut outcomes: Vec<_> = frames(&huge).map(|d| joiner.push(&d)).collect();
    assert_eq!(outcomes.pop(), Some(Err(FrameError::TooLarge)));
    assert!(
        outcomes.iter().all(|o| *o == Ok(None)),
        "only the last frame reports"
    );
    let next = encode_request(&Request::Ping { nonce: 9 });
    let datagrams: Vec<_> = frames(&next).collect();
    assert_eq!(joiner.push(&datagrams[0]), Ok(Some(next)));
}

#[test]
fn container_paths_are_checked_the_same_on_both_sides() {
    use super::rules::path_below_root;
    assert_eq!(path_below_root(b"/w/in.txt"), Ok(&b"w/in.txt"[..]));
    assert_eq!(path_below_root(b"/"), Ok(&b"."[..]));
    assert_eq!(path_below_root(b"w/x"), Err("must be an absolute path"));
    assert_eq!(path_below_root(b"/w/\0x"), Err("contains a NUL byte"));
    for bad in [&b"/w/../etc"[..], b"/w/./x", b"/..", b"/w/."] {
        assert_eq!(
            path_below_root(bad),
            Err("must not contain '.' or '..' components")
        );
    }
}

#[test]
fn open_flags_are_checked_the_same_on_both_sides() {
    use super::rules::open_flags_valid;
    assert!(open_flags_valid(libc::O_RDONLY));
    assert!(open_flags_valid(
        libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC
    ));
    assert!(!open_flags_valid(libc::O_WRONLY | libc::O_RDWR));
    assert!(!open_flags_valid(libc::O_RDONLY | libc::O_PATH));
    assert!(!open_flags_valid(libc::O_WRONLY | libc::O_TMPFILE));
}
