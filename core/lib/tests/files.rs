//! Files between the host and a container: what a program leaves in /w cannot
//! block, flood or redirect the host's file calls; directories, listings, modes,
//! tree copies and ownership; sealed memfds as program input.
//!
//! Must run as root (CI does). The scripts that plant files are guarded.

mod common;

use common::*;
use scpool_core::{
    sealed_memfd, Container, ContainerConfig, Error, ExecveParam, FileKind, TreeLimits,
};
use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Resident memory of this test process, bytes.
fn rss() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let kib: u64 = status_field(&status, "VmRSS")
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib << 10
}

#[track_caller]
fn assert_still_works(c: &mut Container) {
    assert!(!c.is_broken());
    let r = c.run(&run_param(["/bin/echo", "alive"])).expect("a run");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "alive\n");
}

/// `sh` with room for the 1 GiB sparse files the scripts make (the output limit
/// is also the program's file size limit).
fn sh_big(c: &mut Container, script: &str) -> scpool_core::RunResult {
    let mut param = run_param(["/bin/sh", "-c", &format!("{}{script}", sh_guard())]);
    param.limits.output = Some(2 << 30);
    let r = c.run(&param).expect("running a script");
    assert_ok(&r);
    r
}

#[track_caller]
fn assert_not_regular(e: Error, kind: FileKind) {
    match e {
        Error::NotRegularFile { found, .. } => assert_eq!(found, kind),
        other => panic!("expected NotRegularFile({kind:?}), got {other:?}"),
    }
}

#[test]
fn what_a_program_leaves_in_w_fails_host_calls_at_once_and_the_container_keeps_working() {
    let mut c = container();
    sh_big(
        &mut c,
        "mkfifo /w/fifo && ln -s /etc/passwd /w/link && truncate -s 1G /w/sparse && \
         mkdir /w/dir && /usr/bin/python3 -c \
         'import socket; socket.socket(socket.AF_UNIX).bind(\"/w/sock\")'",
    );
    let before = rss();

    // The FIFO: an open that waited for a writer would stall the host and break
    // the container at the control timeout.
    assert_not_regular(c.read_file("/w/fifo").unwrap_err(), FileKind::Fifo);
    assert_not_regular(c.write_file("/w/fifo", b"x").unwrap_err(), FileKind::Fifo);
    assert!(!c.is_broken());

    // The socket cannot be opened at all (ENXIO); writing says what it is.
    match c.read_file("/w/sock").unwrap_err() {
        Error::Open { errno, .. } => assert_eq!(errno, libc::ENXIO),
        other => panic!("reading a socket: {other:?}"),
    }
    assert_not_regular(c.write_file("/w/sock", b"x").unwrap_err(), FileKind::Fifo);

    // The symlink is never followed, not even to a file the program could read.
    for e in [
        c.read_file("/w/link").unwrap_err(),
        c.write_file("/w/link", b"x").unwrap_err(),
    ] {
        match e {
            Error::Open { errno, .. } => assert_eq!(errno, libc::ELOOP),
            other => panic!("through a symlink: {other:?}"),
        }
    }

    // A directory.
    let e = c.read_file("/w/dir").unwrap_err();
    assert_eq!(e.errno(), libc::EISDIR);
    assert_not_regular(e, FileKind::Directory);

    // The 1 GiB sparse file: above the default maximum (the larger size cap) and
    // above a caller's; nothing of it reaches host memory.
    match c.read_file("/w/sparse").unwrap_err() {
        Error::FileTooLarge { limit, .. } => assert_eq!(limit, 256 << 20),
        other => panic!("reading 1 GiB: {other:?}"),
    }
    match c.read_file_max("/w/sparse", 4096).unwrap_err() {
        e @ Error::FileTooLarge { .. } => assert_eq!(e.errno(), libc::EFBIG),
        other => panic!("reading 1 GiB with a 4 KiB maximum: {other:?}"),
    }
    let grown = rss().saturating_sub(before);
    assert!(grown < 32 << 20, "the test process grew by {grown} bytes");

    assert_still_works(&mut c);
}

#[test]
fn reads_stop_at_the_maximum_exactly() {
    let mut c = container();
    c.write_file("/w/ten", b"0123456789").unwrap();
    assert_eq!(c.read_file_max("/w/ten", 10).unwrap(), b"0123456789");
    assert!(matches!(
        c.read_file_max("/w/ten", 9),
        Err(Error::FileTooLarge { limit: 9, .. })
    ));
    let mut sink = Vec::new();
    assert!(c.read_file_into("/w/ten", &mut sink, 3).is_err());
    assert!(
        sink.is_empty(),
        "bytes were written before the size was refused"
    );
    assert_eq!(c.read_file_into("/w/ten", &mut sink, 100).unwrap(), 10);
    assert_eq!(sink, b"0123456789");
}

#[test]
fn mkdir_write_file_mode_and_list_dir_give_the_program_its_files() {
    let mut c = container();
    c.mkdir("/w/d", 0o750).unwrap();
    c.write_file_mode("/w/d/run.sh", b"#!/bin/sh\necho ran\n", 0o755)
        .unwrap();
    c.write_file_mode("/w/d/secret", b"s", 0o600).unwrap();
    c.mkdir("/w/d/sub", 0o777).unwrap();
    // The host's umask decides nothing; owners are the program's.
    let r = sh(
        &mut c,
        "stat -c '%n %a %u:%g' /w/d /w/d/run.sh /w/d/secret /w/d/sub && /w/d/run.sh && \
         echo more > /w/d/sub/new && cat /w/d/secret",
    );
    assert_ok(&r);
    let (uid, gid) = c.program_ids();
    let want = format!(
        "/w/d 750 {uid}:{gid}\n/w/d/run.sh 755 {uid}:{gid}\n\
         /w/d/secret 600 {uid}:{gid}\n/w/d/sub 777 {uid}:{gid}\nran\ns"
    );
    assert_eq!(text(&r.stdout), want);

    let listing = c.list_dir("/w/d").unwrap();
    let seen: Vec<_> = listing
        .iter()
        .map(|e| (e.name.to_str().unwrap(), e.kind, e.size, e.mode))
        .collect();
    assert_eq!(
        seen,
        [
            ("run.sh", FileKind::File, 19, 0o755),
            ("secret", FileKind::File, 1, 0o600),
            ("sub", FileKind::Directory, seen[2].2, 0o777),
        ]
    );

    // Existing entries, a missing parent, a parent the program may not write, bad modes.
    assert_eq!(c.mkdir("/w/d", 0o755).unwrap_err().errno(), libc::EEXIST);
    assert_eq!(
        c.mkdir("/w/no/such", 0o755).unwrap_err().errno(),
        libc::ENOENT
    );
    assert_eq!(c.mkdir("/etc/x", 0o755).unwrap_err().errno(), libc::EACCES);
    assert!(matches!(
        c.mkdir("/w/e", 0o10000),
        Err(Error::InvalidArgument(_))
    ));
    assert!(
        matches!(c.list_dir("/w/d/secret"), Err(Error::Open { errno, .. }) if errno == libc::ENOTDIR)
    );
    // Reset takes it all away.
    c.reset().unwrap();
    assert!(c.list_dir("/w").unwrap().is_empty());
}

#[test]
fn symlink_makes_a_link_of_the_program_that_runs_and_reads_through_inside_the_container() {
    let mut c = container();
    c.write_file("/w/data", b"hello\n").unwrap();
    c.mkdir("/w/d", 0o755).unwrap();
    c.symlink("../data", "/w/d/rel").unwrap();
    c.symlink("/bin/echo", "/w/echo").unwrap();
    // An absolute target is the container's file, not the host's.
    c.symlink("/w/data", "/w/abs").unwrap();
    let r = sh(
        &mut c,
        "stat -c '%F %u:%g' /w/d/rel /w/echo && readlink /w/d/rel /w/echo /w/abs && \
         cat /w/d/rel /w/abs && /w/echo through the link",
    );
    assert_ok(&r);
    let (uid, gid) = c.program_ids();
    assert_eq!(
        text(&r.stdout),
        format!(
            "symbolic link {uid}:{gid}\nsymbolic link {uid}:{gid}\n../data\n/bin/echo\n/w/data\n\
             hello\nhello\nthrough the link\n"
        )
    );
    let listing = c.list_dir("/w").unwrap();
    let echo = listing.iter().find(|e| e.name == "echo").unwrap();
    assert_eq!((echo.kind, echo.size), (FileKind::Symlink, 9));

    // Never replaced, never made where the program may not write, targets checked.
    assert_eq!(c.symlink("x", "/w/data").unwrap_err().errno(), libc::EEXIST);
    assert_eq!(c.symlink("x", "/etc/x").unwrap_err().errno(), libc::EACCES);
    assert_eq!(
        c.symlink("x", "/w/no/such").unwrap_err().errno(),
        libc::ENOENT
    );
    for bad in ["", "a\0b"] {
        assert!(
            matches!(c.symlink(bad, "/w/bad"), Err(Error::InvalidArgument(_))),
            "target {bad:?}"
        );
    }
    assert!(matches!(
        c.symlink("x", "w/relative"),
        Err(Error::InvalidArgument(_))
    ));
    c.reset().unwrap();
    assert!(c.list_dir("/w").unwrap().is_empty());
}

#[test]
fn symlink_follows_no_link_the_program_planted_on_the_way() {
    let mut c = container();
    // /tmp is the program's to write: a link that were followed would put the new
    // link there.
    assert_ok(&sh(&mut c, "ln -s /tmp /w/door && mkdir /w/real"));
    let refused = c.symlink("/etc/passwd", "/w/door/planted").unwrap_err();
    assert_eq!(refused.errno(), libc::ELOOP, "{refused:?}");
    // ".." is no way around it.
    assert!(matches!(
        c.symlink("x", "/w/real/../door/planted"),
        Err(Error::InvalidArgument(_))
    ));
    let r = sh(&mut c, "ls -A /tmp /w/real");
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "/tmp:\n\n/w/real:\n");
    assert_still_works(&mut c);
}

#[test]
fn rootless_mkdir_files_and_links_belong_to_root_inside() {
    let config = set!(
        ContainerConfig::default(),
        uid = Some(0),
        gid = Some(0),
        user_namespace = true
    );
    let mut c = Container::new(&config).unwrap();
    c.mkdir("/w/d", 0o700).unwrap();
    c.write_file_mode("/w/d/f", b"x", 0o640).unwrap();
    c.symlink("f", "/w/d/l").unwrap();
    let r = sh(
        &mut c,
        "stat -c '%a %u:%g' /w/d /w/d/f && stat -c '%u:%g' /w/d/l && echo y >> /w/d/l",
    );
    assert_ok(&r);
    assert_eq!(text(&r.stdout), "700 0:0\n640 0:0\n0:0\n");
}

/// A host tree with nested directories, modes and an inner relative symlink.
fn host_tree(name: &str) -> std::path::PathBuf {
    let top = scratch_dir().join(name);
    let _ = fs::remove_dir_all(&top);
    fs::create_dir_all(top.join("src/deep")).unwrap();
    fs::write(top.join("src/main.c"), b"int main(void) { return 0; }\n").unwrap();
    fs::write(top.join("src/deep/data"), vec![7u8; 5000]).unwrap();
    fs::write(top.join("tool"), b"#!/bin/sh\necho tool\n").unwrap();
    fs::set_permissions(top.join("tool"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("src/main.c", top.join("main")).unwrap();
    top
}

#[test]
fn copy_in_then_copy_out_round_trips_a_tree_owned_by_the_program() {
    let mut c = container();
    let top = host_tree("tree-in");
    let limits = c.default_tree_limits();
    let copied = c.copy_in(&top, "/w/t", &limits).unwrap();
    assert_eq!((copied.entries, copied.bytes), (6, 29 + 5000 + 20));
    let r = sh(
        &mut c,
        "cd /w/t && find . | sort && stat -c '%n %a %u' tool src/deep/data && \
         readlink main && ./tool && cat main && echo out > src/deep/made",
    );
    assert_ok(&r);
    let uid = c.program_ids().0;
    let want = format!(
        ".\n./main\n./src\n./src/deep\n./src/deep/data\n./src/main.c\n./tool\n\
         tool 755 {uid}\nsrc/deep/data 644 {uid}\nsrc/main.c\ntool\n\
         int main(void) {{ return 0; }}\n"
    );
    assert_eq!(text(&r.stdout), want);

    let out = scratch_dir().join("tree-out");
    let _ = fs::remove_dir_all(&out);
    let copied = c.copy_out("/w/t", &out, &limits).unwrap();
    assert_eq!(copied.entries, 7);
    assert_eq!(fs::read(out.join("src/deep/made")).unwrap(), b"out\n");
    assert_eq!(
        fs::read(out.join("src/deep/data")).unwrap(),
        vec![7u8; 5000]
    );
    assert_eq!(
        fs::read_link(out.join("main")).unwrap(),
        Path::new("src/main.c")
    );
    assert_eq!(
        fs::metadata(out.join("tool")).unwrap().mode() & 0o7777,
        0o755
    );
    // Into an existing tree, nothing is overwritten.
    assert!(c.copy_out("/w/t", &out, &limits).is_err());
    assert!(c.copy_in(&top, "/w/t", &limits).is_err());
    fs::remove_dir_all(&out).unwrap();
    fs::remove_dir_all(&top).unwrap();
}

#[test]
fn tree_copies_refuse_escaping_links_special_files_and_trees_over_their_caps() {
    let mut c = container();
    let limits = c.default_tree_limits();
    let top = host_tree("tree-refused");
    std::os::unix::fs::symlink("../../outside", top.join("src/escape")).unwrap();
    assert!(matches!(
        c.copy_in(&top, "/w/t", &limits),
        Err(Error::InvalidArgument(_))
    ));
    assert!(c.list_dir("/w").unwrap().is_empty(), "a refused copy wrote");
    fs::remove_file(top.join("src/escape")).unwrap();

    let small = TreeLimits::new(5000, 100);
    assert!(matches!(
        c.copy_in(&top, "/w/t", &small),
        Err(Error::FileTooLarge { limit: 5000, .. })
    ));
    let few = TreeLimits::new(1 << 20, 5);
    assert!(matches!(
        c.copy_in(&top, "/w/t", &few),
        Err(Error::InvalidArgument(_))
    ));
    assert!(c.list_dir("/w").unwrap().is_empty());

    // Out of the container: a FIFO, a link to the host's /etc, a sparse giant.
    let out = scratch_dir().join("tree-refused-out");
    for (script, check) in [
        ("mkdir /w/a && mkfifo /w/a/fifo", "fifo"),
        ("mkdir /w/a && ln -s /etc /w/a/etc", "link"),
        ("mkdir /w/a && truncate -s 1G /w/a/big", "big"),
    ] {
        sh_big(&mut c, script);
        let e = c.copy_out("/w/a", &out, &limits).unwrap_err();
        match check {
            "fifo" => assert_not_regular(e, FileKind::Fifo),
            "link" => assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}"),
            _ => assert!(matches!(e, Error::FileTooLarge { .. }), "{e:?}"),
        }
        assert!(!out.exists(), "a refused copy wrote to the host");
        c.reset().unwrap();
    }
    fs::remove_dir_all(&top).unwrap();
    assert_still_works(&mut c);
}

#[test]
fn a_sealed_memfd_gives_the_program_bytes_but_no_write_and_no_host_path() {
    let mut c = container();
    let input = sealed_memfd(b"the input\n").unwrap();
    let out = memfd_with("out", b"");
    let err = memfd_with("err", b"");
    let script = format!(
        "{}cat; readlink /proc/self/fd/0; \
         echo x >&0 2>/dev/null && echo wrote; \
         echo y 2>/dev/null > /proc/self/fd/0 && echo reopened; \
         echo y 2>/dev/null >> /proc/self/fd/0 && echo appended; echo done",
        sh_guard()
    );
    let mut param = ExecveParam::new(["/bin/sh", "-c", &script]);
    param.files = vec![input.as_fd(), out.as_fd(), err.as_fd()];
    param.limits.wall_time = Some(SAFETY_WALL_TIME);
    param.env = vec![PATH_ENV.into()];
    let r = c.execve(&param).unwrap();
    let mut out = out;
    let stdout = text(&read_all(&mut out));
    assert_ok(&r);
    assert_eq!(stdout, "the input\n/memfd:scpool-data (deleted)\ndone\n");
    // Still intact for the host.
    let mut input = fs::File::from(input);
    assert_eq!(read_all(&mut input), b"the input\n");
}

/// A program written into the container runs at once, even while another thread
/// starts container inits: a child cloned then must not hold a copy of the file's
/// writable descriptor, which would make the exec fail with ETXTBSY.
#[test]
fn a_program_written_in_runs_at_once_while_inits_are_cloned() {
    use std::sync::atomic::{AtomicBool, Ordering};
    // Padded (an ELF file runs with bytes after its segments) so that each write
    // keeps its descriptor open long enough for a clone to meet it.
    let mut program = fs::read("/bin/true").unwrap();
    program.resize(program.len() + (4 << 20), 0);
    let stop = std::sync::Arc::new(AtomicBool::new(false));
    let creator = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut created = 0;
            while !stop.load(Ordering::Relaxed) {
                drop(Container::new(&ContainerConfig::default()).expect("a container"));
                created += 1;
            }
            created
        })
    };
    let mut c = Container::new(&ContainerConfig::default()).unwrap();
    for round in 0..300 {
        c.write_file_mode("/w/prog", &program, 0o755).unwrap();
        let r = c.run(&run_param(["/w/prog"])).expect("a run");
        assert!(r.status == scpool_core::Status::Ok, "round {round}: {r:?}");
    }
    stop.store(true, Ordering::Relaxed);
    assert!(creator.join().unwrap() > 0, "no init was cloned meanwhile");
}
