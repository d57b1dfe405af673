//! No descriptor of a host file reaches the program: `--stdin FILE` gives it a
//! sealed copy, which it can neither write through /proc/self/fd/0 nor trace back
//! to the host path.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::{Command, Output};

/// Exit code of the guarded shell when it does not run in a sandbox.
const GUARD_REFUSED: i32 = 99;

/// Shell code that exits with GUARD_REFUSED unless it runs in PID and mount
/// namespaces other than this process's (the hostile script does nothing on the host).
fn sh_guard() -> String {
    let link = |ns: &str| {
        std::fs::read_link(format!("/proc/self/ns/{ns}"))
            .unwrap()
            .to_string_lossy()
            .into_owned()
    };
    let (pid, mnt) = (link("pid"), link("mnt"));
    format!(
        "ok() {{ l=$(readlink \"/proc/self/ns/$1\") && \
         case \"$l\" in *'['*) [ \"$l\" != \"$2\" ] ;; *) false ;; esac; }}\n\
         ok pid '{pid}' && ok mnt '{mnt}' || exit {GUARD_REFUSED}\n"
    )
}

/// A world-writable host file (so that only the sandbox, not its permissions,
/// stands between the program and it), removed on drop.
struct HostFile(PathBuf);

impl HostFile {
    fn new(name: &str, contents: &[u8]) -> Self {
        let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("{name}-{}", std::process::id()));
        std::fs::write(&path, contents).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o666)).unwrap();
        Self(path)
    }
}

impl Drop for HostFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn scpool_sh(extra: &[&std::ffi::OsStr], script: &str) -> Output {
    let guarded = format!("{}{script}", sh_guard());
    let output = Command::new(env!("CARGO_BIN_EXE_scpool"))
        .arg("run")
        .args(extra)
        .args(["--wall-time-limit", "60", "--", "/bin/sh", "-c", &guarded])
        .output()
        .expect("running scpool");
    assert_ne!(
        output.status.code(),
        Some(GUARD_REFUSED),
        "the shell does not believe it runs in a sandbox"
    );
    output
}

/// Reopens fd 0 through /proc for appending and for truncating, prints its link,
/// then what it reads.
const REOPEN_STDIN: &str = "\
echo \"link=$(readlink /proc/self/fd/0)\"
(echo HACKED >> /proc/self/fd/0) 2>/dev/null && echo appended
(echo HACKED > /proc/self/fd/0) 2>/dev/null && echo truncated
echo read:; cat
";

#[test]
fn stdin_file_cannot_be_written_or_located_by_the_program() {
    let file = HostFile::new("scpool-cli-stdin", b"1 2\n");
    let output = scpool_sh(&["--stdin".as_ref(), file.0.as_os_str()], REOPEN_STDIN);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");

    assert_eq!(
        std::fs::read(&file.0).unwrap(),
        b"1 2\n",
        "the host file changed"
    );
    let name = file.0.file_name().unwrap().to_string_lossy().into_owned();
    assert!(!stdout.contains(&name), "the host path leaked: {stdout}");
    let link = stdout
        .lines()
        .find_map(|l| l.strip_prefix("link="))
        .unwrap();
    assert!(link.starts_with("/memfd:"), "fd 0 is not a memfd: {stdout}");
    assert!(
        !stdout.contains("appended") && !stdout.contains("truncated"),
        "{stdout}"
    );
    // The program still reads the whole file.
    assert!(stdout.ends_with("read:\n1 2\n"), "{stdout}");
}

#[test]
fn stdin_from_a_pipe_is_copied_the_same_way() {
    let file = HostFile::new("scpool-cli-stdin-pipe", b"from a pipe\n");
    let output = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "cat \"$1\" | \"$2\" run --stdin /dev/stdin -- /bin/sh -c '{}'",
            format!("{}{REOPEN_STDIN}", sh_guard()).replace('\'', "'\\''")
        ))
        .arg("sh")
        .arg(&file.0)
        .arg(env!("CARGO_BIN_EXE_scpool"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("link=/memfd:"), "{stdout}");
    assert!(
        !stdout.contains("appended") && !stdout.contains("truncated"),
        "{stdout}"
    );
    assert!(stdout.ends_with("read:\nfrom a pipe\n"), "{stdout}");
}

#[test]
fn without_stdin_the_program_reads_nothing_from_a_file_of_its_own() {
    let output = scpool_sh(&[], REOPEN_STDIN);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("link=/memfd:"), "{stdout}");
    assert!(
        !stdout.contains("appended") && !stdout.contains("truncated"),
        "{stdout}"
    );
    assert!(stdout.ends_with("read:\n"), "{stdout}");
}
