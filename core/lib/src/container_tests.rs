//! Malformed traffic straight at a live init: each bad message gets exactly one error
//! answer and the container keeps working.

use super::*;

fn container() -> Container {
    Container::new(&ContainerConfig::default()).expect("create a container")
}

fn expect_protocol_error(c: &mut Container) {
    match c.wait_for_message(Some(Instant::now() + CONTROL_TIMEOUT)) {
        Ok(Some((Response::Error(e), _))) => assert_eq!(e.kind, ErrorKind::Protocol, "{e:?}"),
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[test]
fn garbage_requests_get_one_error_each() {
    let mut c = container();
    for garbage in [&[][..], &[0xff], &[4, 1, 2, 3], &[2, 1]] {
        c.channel.send(garbage, &[]).unwrap();
        expect_protocol_error(&mut c);
    }
    c.ping().expect("the init still answers");
}

#[test]
fn descriptors_on_a_bad_request_are_dropped() {
    let mut c = container();
    let file = std::fs::File::open("/dev/null").unwrap();
    c.channel.send(&[0xee], &[file.as_raw_fd()]).unwrap();
    expect_protocol_error(&mut c);
    c.ping().expect("the init still answers");
}

#[test]
fn an_oversized_message_is_refused_by_the_init_too() {
    let mut c = container();
    // Past the host-side check: raw frames straight to the init.
    let huge = vec![0u8; protocol::MAX_MESSAGE_BYTES + 1];
    c.channel.send(&huge, &[]).unwrap();
    expect_protocol_error(&mut c);
    c.ping().expect("the init still answers");
}

#[test]
fn an_oversized_request_is_an_invalid_argument() {
    let mut c = container();
    let param = ExecveParam::new([
        "/bin/true".to_string(),
        "x".repeat(protocol::MAX_MESSAGE_BYTES),
    ]);
    assert!(matches!(c.execve(&param), Err(Error::InvalidArgument(_))));
    c.ping().expect("the container still works");
}

#[test]
fn wrong_descriptor_count_is_an_invalid_argument() {
    let mut c = container();
    let request = Request::Execve(protocol::ExecRequest {
        args: vec![b"/bin/true".to_vec()],
        env: vec![],
        cwd: b"/w".to_vec(),
        fd_count: 2,
        exec_fd: false,
        rlimits: vec![],
        seccomp: None,
        wall_limit_ns: 0,
        single_program: false,
        join_cgroup: false,
    });
    c.send(&request, &[]).unwrap();
    match c.wait_for_message(Some(Instant::now() + CONTROL_TIMEOUT)) {
        Ok(Some((Response::Error(e), _))) => assert_eq!(e.kind, ErrorKind::InvalidArgument),
        other => panic!("expected an invalid-argument error, got {other:?}"),
    }
    c.ping().expect("the init still answers");
}
