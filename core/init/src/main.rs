//! scpool-init: PID 1 of one scpool container.
//!
//! Started by the host library from a sealed memfd with its end of the control
//! socket as descriptor 3. It builds the container's root filesystem, then serves
//! requests (ping, open, execve, reset) until the host asks it to stop or goes away
//! (socket EOF, or SIGKILL through the parent-death signal). When PID 1 of a PID
//! namespace exits, the kernel kills everything else in it: no orphan containers.

use scpool_protocol as protocol;
use scpool_protocol::{arch, seccomp_exec};
mod ipc;
mod keyrings;
mod mount;
mod namespace;
mod open;
mod overlay;
mod own_state;
mod pid_ns;
mod privileges;
mod remount;
mod run;
mod runner;
mod sockets;
mod standby;
mod sys;

use arch::KernelSigaction;
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use protocol::codec::{decode_request, encode_response};
use protocol::*;
use std::os::fd::{FromRawFd, OwnedFd};

const SOCKET_FD: i32 = 3;

fn send(channel: &Channel, response: &Response, fds: &[i32]) {
    if let Err(ChannelError::Closed) = channel.send(&encode_response(response), fds) {
        sys::host_gone();
    }
}

fn error(kind: ErrorKind, errno: i32, message: impl Into<String>) -> Response {
    Response::Error(ErrorReport::new(kind, errno, message))
}

fn main() {
    // Everything below assumes fresh namespaces (it mounts over /tmp, kills with
    // kill(-1)): started any other way, refuse to act.
    if std::process::id() != 1 {
        eprintln!("scpool-init is started by the scpool library as PID 1 of a new PID namespace");
        std::process::exit(2);
    }
    // Nothing of the host but our socket: a C host may leak descriptors without
    // close-on-exec.
    // SAFETY: closes descriptors above the socket, none of which we use.
    unsafe { sys::close_range(SOCKET_FD as u32 + 1, u32::MAX, 0) };
    // SAFETY: descriptor 3 is the socket the host placed there for us.
    let socket = unsafe { OwnedFd::from_raw_fd(SOCKET_FD) };
    let _ = nix::fcntl::fcntl(
        &socket,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    );
    let mut channel = Channel::new(socket);

    // Dispositions the host ignored survive exec; runners must start from the
    // defaults.
    reset_signal_dispositions();
    // SIGCHLD arrives through a signalfd while a run is waited for.
    let mut chld = SigSet::empty();
    chld.add(Signal::SIGCHLD);
    let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&chld), None);
    let sigchld = match SignalFd::with_flags(&chld, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
    {
        Ok(fd) => fd,
        Err(e) => {
            send(
                &channel,
                &error(
                    ErrorKind::System,
                    e as i32,
                    format!("signalfd: {}", e.desc()),
                ),
                &[],
            );
            std::process::exit(1);
        }
    };

    let setup = match channel.recv().map(|(bytes, _)| decode_request(&bytes)) {
        Ok(Ok(Request::Setup(setup))) => setup,
        Ok(_) => {
            let message = "the first request must be Setup";
            send(&channel, &error(ErrorKind::Protocol, 0, message), &[]);
            std::process::exit(1);
        }
        Err(_) => std::process::exit(1),
    };
    // The host moved us into the container's cgroup before sending Setup: a cgroup
    // namespace made now has that cgroup as its root, so /proc/self/cgroup shows "/"
    // and nothing of the host's hierarchy.
    if let Err(e) = nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWCGROUP) {
        let message = format!("creating the cgroup namespace: {}", e.desc());
        send(&channel, &error(ErrorKind::System, e as i32, message), &[]);
        std::process::exit(1);
    }
    let mut writable =
        match mount::build_root(&setup).and_then(|w| namespace::configure(&setup).map(|_| w)) {
            Ok(w) => w,
            Err(e) => {
                send(
                    &channel,
                    &error(ErrorKind::System, e.errno as i32, e.to_string()),
                    &[],
                );
                std::process::exit(1);
            }
        };
    if let Err(e) = privileges::restrict_future_execs(last_capability()) {
        send(
            &channel,
            &error(ErrorKind::System, e.errno as i32, e.to_string()),
            &[],
        );
        std::process::exit(1);
    }
    // Not dumpable: no process without CAP_SYS_PTRACE over our user namespace may
    // ptrace us or open /proc/1/* (and with hidepid the directory is invisible), even
    // a runner that shares our uid in rootless mode. Runners are dumpable again after
    // their exec.
    // SAFETY: a prctl that changes only this process's dumpable flag.
    let dumpable = unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) };
    if let Err(e) = nix::errno::Errno::result(dumpable) {
        send(
            &channel,
            &error(
                ErrorKind::System,
                e as i32,
                format!("PR_SET_DUMPABLE: {}", e.desc()),
            ),
            &[],
        );
        std::process::exit(1);
    }
    if let Err(e) = keyrings::leave_host_session() {
        // Kernels without keyrings have nothing to leak.
        if e != nix::errno::Errno::ENOSYS {
            let message = format!("joining a session keyring of our own: {}", e.desc());
            send(&channel, &error(ErrorKind::System, e as i32, message), &[]);
            std::process::exit(1);
        }
    }
    // An earlier container with the same uid may have left keys behind.
    keyrings::clear(setup.uid, setup.gid);
    let own = own_state::OwnState::capture();
    let creds = privileges::Credentials {
        uid: setup.uid,
        gid: setup.gid,
        user_namespace: setup.user_namespace,
    };
    send(
        &channel,
        &Response::Ready {
            version: PROTOCOL_VERSION,
        },
        &[],
    );
    serve(&mut channel, &sigchld, &creds, &own, &mut writable);
}

fn serve(
    channel: &mut Channel,
    sigchld: &SignalFd,
    creds: &privileges::Credentials,
    own: &own_state::OwnState,
    writable: &mut mount::Writable,
) -> ! {
    let mut runners = run::Runners::new();
    loop {
        let (bytes, fds) = match channel.recv() {
            Ok(message) => message,
            Err(ChannelError::Closed) => sys::host_gone(),
            Err(e) => {
                send(
                    channel,
                    &error(ErrorKind::Protocol, 0, format!("bad message: {e}")),
                    &[],
                );
                continue;
            }
        };
        let request = match decode_request(&bytes) {
            Ok(request) => request,
            Err(e) => {
                send(
                    channel,
                    &error(ErrorKind::Protocol, 0, format!("bad request: {e}")),
                    &[],
                );
                continue;
            }
        };
        match request {
            Request::Ping { nonce } => send(channel, &Response::Pong { nonce }, &[]),
            Request::Open(entries) => match open::open_all(&entries, creds.uid, creds.gid) {
                Ok(files) => {
                    let raw: Vec<i32> = files.iter().map(std::os::fd::AsRawFd::as_raw_fd).collect();
                    send(
                        channel,
                        &Response::Opened {
                            count: raw.len() as u32,
                        },
                        &raw,
                    );
                }
                Err(report) => send(channel, &Response::Error(report), &[]),
            },
            Request::Execve(req) => {
                let response = run::run(req, fds, channel, sigchld, creds, own, &mut runners);
                send(channel, &response, &[]);
                // Off the caller's path: the answer is out.
                runners.standbys.after_run(creds);
            }
            // A kill that raced with the end of its run: nothing is running now.
            Request::Kill => {}
            Request::Reset { clear_keys } => {
                runners.standbys.dismiss();
                sys::kill_all_and_reap();
                sockets::wait_until_gone(std::time::Duration::from_secs(1));
                ipc::remove_all();
                keyrings::clear_session();
                if clear_keys {
                    keyrings::clear(creds.uid, creds.gid);
                }
                let response = match writable.wipe() {
                    Ok(()) => Response::ResetDone,
                    Err(e) => error(ErrorKind::System, e.errno as i32, e.to_string()),
                };
                send(channel, &response, &[]);
                runners.standbys.after_reset(creds);
            }
            Request::Shutdown => sys::host_gone(),
            Request::Setup(_) => send(
                channel,
                &error(ErrorKind::Protocol, 0, "already set up"),
                &[],
            ),
        }
    }
}

/// The highest capability number this kernel knows.
fn last_capability() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(40)
}

fn reset_signal_dispositions() {
    let default = KernelSigaction {
        handler: libc::SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
    // Every signal, 32 and 33 included: glibc's sigaction refuses those (it keeps
    // them for itself), so the system call is made directly.
    for signal in 1..=64 {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // SAFETY: `default` is a valid kernel sigaction; the old action is not read.
            unsafe {
                libc::syscall(
                    libc::SYS_rt_sigaction,
                    signal,
                    &default as *const KernelSigaction,
                    std::ptr::null_mut::<KernelSigaction>(),
                    arch::KERNEL_SIGSET_BYTES,
                )
            };
        }
    }
}
