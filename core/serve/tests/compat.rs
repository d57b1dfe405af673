//! go-judge's REST API as its README, docs and `model` package define it, asked of
//! `scpool serve` over HTTP: statuses, exit statuses, units and collected files,
//! and where scpool differs on purpose, the difference. Runs as root.

mod common;

use common::{server, small_config, Client};
use serde_json::{json, Value};

const PATH: &str = "PATH=/usr/bin:/bin";
const MIB: u64 = 1 << 20;
const SECOND: u64 = 1_000_000_000;

fn collectors() -> Value {
    json!([{"content": ""}, {"name": "stdout", "max": 10240}, {"name": "stderr", "max": 10240}])
}

fn sh(script: &str) -> Value {
    json!({"args": ["/bin/sh", "-c", script], "env": [PATH], "files": collectors()})
}

/// Compiles C or C++ inside the service and keeps the program by fileId, as a
/// judge does; the program never exists on the host.
fn compile(client: &mut Client, compiler: &str, source: &str) -> String {
    let file = if compiler == "g++" { "a.cc" } else { "a.c" };
    let r = client.run_one(json!({
        "args": [compiler, file, "-O1", "-o", "a"],
        "env": [PATH],
        "files": collectors(),
        "cpuLimit": 20 * SECOND,
        "clockLimit": 60 * SECOND,
        "memoryLimit": 512 * MIB,
        "procLimit": 64,
        "copyIn": {file: {"content": source}},
        "copyOut": ["stdout", "stderr"],
        "copyOutCached": ["a"],
    }));
    assert_eq!(r["status"], "Accepted", "{r}");
    r["fileIds"]["a"].as_str().expect("fileIds.a").to_owned()
}

fn run_by_id(client: &mut Client, id: &str, extra: Value) -> Value {
    let mut cmd = json!({
        "args": ["a"],
        "env": [PATH],
        "files": collectors(),
        "copyIn": {"a": {"fileId": id}},
    });
    for (k, v) in extra.as_object().unwrap() {
        cmd[k] = v.clone();
    }
    client.run_one(cmd)
}

#[test]
fn echo_is_accepted_with_its_output_collected() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let r = c.run_one(json!({
        "args": ["echo", "hello", "world"],
        "env": [PATH],
        "files": collectors(),
    }));
    assert_eq!(r["status"], "Accepted");
    assert_eq!(r["exitStatus"], 0);
    assert_eq!(r["files"]["stdout"], "hello world\n");
    assert_eq!(r["files"]["stderr"], "");
    // Units: time and runTime in nanoseconds, memory in bytes.
    let time = r["time"].as_u64().unwrap();
    let run_time = r["runTime"].as_u64().unwrap();
    let memory = r["memory"].as_u64().unwrap();
    assert!(
        time < SECOND && run_time > 1_000 && run_time < 10 * SECOND,
        "{r}"
    );
    assert!(memory > 64 * 1024 && memory < 256 * MIB, "{r}");
}

#[test]
fn compile_with_copy_out_cached_then_run_by_file_id() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let id = compile(
        &mut c,
        "g++",
        "#include <iostream>\nint main(){int a,b;std::cin>>a>>b;std::cout<<a+b<<std::endl;}\n",
    );
    // go-judge's documented form: "a", copied in, run from the working directory.
    let mut cmd = json!({
        "args": ["a"],
        "env": [PATH],
        "files": [{"content": "1 2"}, {"name": "stdout", "max": 10240}, {"name": "stderr", "max": 10240}],
        "cpuLimit": SECOND,
        "memoryLimit": 64 * MIB,
        "procLimit": 50,
        "copyIn": {"a": {"fileId": id}},
    });
    let r = c.run_one(cmd.clone());
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"], "3\n");
    // The stored program is there for the next request too, and listed.
    cmd["files"][0] = json!({"content": "40 2"});
    assert_eq!(c.run_one(cmd)["files"]["stdout"], "42\n");
    let list = c.get("/file").json();
    assert_eq!(list[&id], "a");
}

#[test]
fn cpu_and_clock_limits_give_time_limit_exceeded() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let mut spin = sh("while :; do :; done");
    spin["cpuLimit"] = json!(SECOND);
    spin["clockLimit"] = json!(10 * SECOND);
    let r = c.run_one(spin);
    assert_eq!(r["status"], "Time Limit Exceeded", "{r}");
    assert!(r["time"].as_u64().unwrap() >= SECOND, "{r}");

    let mut sleep = sh("sleep 5");
    sleep["cpuLimit"] = json!(SECOND);
    sleep["clockLimit"] = json!(SECOND);
    let r = c.run_one(sleep);
    assert_eq!(r["status"], "Time Limit Exceeded", "{r}");
    let run_time = r["runTime"].as_u64().unwrap();
    // Killed at the limit, not when sleep would have ended.
    assert!((SECOND..5 * SECOND).contains(&run_time), "{r}");
    assert!(r["time"].as_u64().unwrap() < SECOND / 2, "{r}");
}

#[test]
fn touching_more_memory_than_allowed_is_memory_limit_exceeded() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let id = compile(
        &mut c,
        "gcc",
        "#include <stdlib.h>\nint main(){size_t n=200u<<20;volatile char*p=malloc(n);if(!p)return 2;for(size_t i=0;i<n;i+=4096)p[i]=1;return p[n-4096]==1?0:3;}\n",
    );
    let r = run_by_id(
        &mut c,
        &id,
        json!({"memoryLimit": 64 * MIB, "cpuLimit": 5 * SECOND}),
    );
    assert_eq!(r["status"], "Memory Limit Exceeded", "{r}");
    let memory = r["memory"].as_u64().unwrap();
    assert!((60 * MIB..=65 * MIB).contains(&memory), "{r}");
    // With room it runs.
    let r = run_by_id(
        &mut c,
        &id,
        json!({"memoryLimit": 256 * MIB, "cpuLimit": 5 * SECOND}),
    );
    assert_eq!(r["status"], "Accepted", "{r}");
}

#[test]
fn output_beyond_a_collectors_max_is_output_limit_exceeded_not_memory() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let mut flood = json!({
        "args": ["/bin/sh", "-c", "head -c 16777216 /dev/zero"],
        "env": [PATH],
        "files": [{"content": ""}, {"name": "stdout", "max": 1024}, {"name": "stderr", "max": 1024}],
    });
    let r = c.run_one(flood.clone());
    assert_eq!(r["status"], "Output Limit Exceeded", "{r}");
    assert_eq!(r["files"]["stdout"].as_str().unwrap().len(), 1024);

    // go-judge: 100 MB of output under a 64 MiB limit is Memory Limit Exceeded
    // (its collectors are charged to the program). Here it is Output Limit Exceeded.
    flood["args"][2] = json!("head -c 100000000 /dev/zero");
    flood["memoryLimit"] = json!(64 * MIB);
    let r = c.run_one(flood.clone());
    assert_eq!(r["status"], "Output Limit Exceeded", "{r}");

    // And collected output within its max is not program memory: 16 MiB collected
    // under an 8 MiB memory limit.
    flood["args"][2] = json!("head -c 16777216 /dev/zero");
    flood["memoryLimit"] = json!(8 * MIB);
    flood["files"][1]["max"] = json!(32 * MIB);
    let r = c.run_one(flood);
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"].as_str().unwrap().len(), 16 << 20);
    assert!(r["memory"].as_u64().unwrap() < 8 * MIB, "{r}");
}

#[test]
fn a_file_larger_than_the_output_limit_is_output_limit_exceeded() {
    let mut config = small_config();
    config.output_limit = 4096;
    let s = server(config);
    let mut c = Client::new(&s);
    let r = c.run_one(sh("head -c 4096 /dev/zero > f && echo fits"));
    assert_eq!(r["status"], "Accepted", "{r}");
    // head itself, not a shell that reports its death as an exit status.
    let r = c.run_one(sh("exec head -c 4097 /dev/zero > f"));
    assert_eq!(r["status"], "Output Limit Exceeded", "{r}");
}

#[test]
fn nonzero_exit_and_signal_give_their_exit_status() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let r = c.run_one(sh("exit 3"));
    assert_eq!(r["status"], "Nonzero Exit Status");
    assert_eq!(r["exitStatus"], 3);
    let r = c.run_one(sh("kill -SEGV $$"));
    assert_eq!(r["status"], "Signalled", "{r}");
    assert_eq!(r["exitStatus"], 11);
}

#[test]
fn process_limit_makes_fork_fail() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let script = "for i in 1 2 3 4 5 6 7 8; do sleep 0.5 & done; wait";
    let mut cmd = sh(script);
    cmd["procLimit"] = json!(4);
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "Nonzero Exit Status", "{r}");
    assert!(
        r["files"]["stderr"].as_str().unwrap().contains("fork"),
        "{r}"
    );
    let mut cmd = sh(script);
    cmd["procLimit"] = json!(16);
    assert_eq!(c.run_one(cmd)["status"], "Accepted");
}

/// Whether this host counts a run's processes: a cgroup (as the library finds
/// one) on a kernel with pids.peak (6.1+).
fn counts_processes() -> bool {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap();
    let mut parts = release.trim().split(['.', '-']);
    let mut next = || {
        parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0)
    };
    let kernel = (next(), next());
    let c = scpool_core::Container::new(&scpool_core::ContainerConfig::default()).unwrap();
    kernel >= (6, 1) && c.accounting() != scpool_core::Accounting::NoCgroup
}

#[test]
fn proc_peak_is_each_runs_own_and_absent_where_not_counted() {
    let mut config = small_config();
    // One container: the second run reuses the first's.
    config.parallelism = 1;
    let s = server(config);
    let mut c = Client::new(&s);
    let forks = sh("for i in 1 2 3 4; do sleep 1000 & p=\"$p $!\"; done; kill $p; wait; true");
    let r = c.run_one(forks.clone());
    assert_eq!(r["status"], "Accepted", "{r}");
    if !counts_processes() {
        // go-judge omits a zero; never a made-up figure.
        assert!(r.get("procPeak").is_none(), "{r}");
        eprintln!("skipped: this host does not count a run's processes");
        return;
    }
    let peak = r["procPeak"].as_u64().expect("procPeak");
    assert!((5..=6).contains(&peak), "the shell and 4 children: {r}");
    let r = c.run_one(json!({"args": ["/bin/true"], "env": [PATH]}));
    assert_eq!(r["procPeak"], 1, "the next run counts itself alone: {r}");
    assert_eq!(c.run_one(forks)["procPeak"], peak);
}

#[test]
fn file_errors_are_reported_per_file() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    // A missing copyOut is a File Error; a missing optional one ("name?") is not.
    let mut cmd = sh("echo x > made");
    cmd["copyOut"] = json!(["made", "missing", "absent?"]);
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "File Error", "{r}");
    assert_eq!(r["files"]["made"], "x\n");
    let errors = r["fileError"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{r}");
    assert_eq!(errors[0]["name"], "missing");
    assert_eq!(errors[0]["type"], "CopyOutOpen");

    // copyOutMax: too large is CopyOutSizeExceeded, or cut with copyOutTruncate.
    let mut cmd = sh("head -c 100 /dev/zero > big");
    cmd["copyOut"] = json!(["big"]);
    cmd["copyOutMax"] = json!(10);
    let r = c.run_one(cmd.clone());
    assert_eq!(r["fileError"][0]["type"], "CopyOutSizeExceeded", "{r}");
    cmd["copyOutTruncate"] = json!(true);
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["big"].as_str().unwrap().len(), 10);

    // src of a file that does not exist (under a configured prefix).
    drop(c);
    drop(s);
    let dir = tempdir();
    std::fs::write(dir.join("input.txt"), "from the host\n").unwrap();
    let mut config = small_config();
    config.src_prefixes = vec![dir.clone()];
    let s = server(config);
    let mut c = Client::new(&s);
    let mut cmd = sh("cat in.txt");
    cmd["copyIn"] = json!({"in.txt": {"src": dir.join("nope.txt")}});
    let r = c.run_one(cmd.clone());
    assert_eq!(r["status"], "File Error", "{r}");
    assert_eq!(r["fileError"][0]["type"], "CopyInOpenFile");
    cmd["copyIn"] = json!({"in.txt": {"src": dir.join("input.txt")}});
    let r = c.run_one(cmd.clone());
    assert_eq!(r["files"]["stdout"], "from the host\n", "{r}");
    // Outside every prefix, even through "..": refused, saying why. go-judge reads
    // any host file as root.
    cmd["copyIn"] = json!({"in.txt": {"src": format!("{}/../../etc/shadow", dir.display())}});
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "File Error", "{r}");
    let message = r["fileError"][0]["message"].as_str().unwrap();
    assert!(message.contains("not under a --src-prefix"), "{message}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn copy_in_symlinks_run_and_read_through_and_bad_ones_are_file_errors() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    // go-judge's use: a program name that links to one of the system's.
    let r = c.run_one(json!({
        "args": ["e", "through", "a", "link"],
        "env": [PATH],
        "files": collectors(),
        "copyIn": {"e": {"symlink": "/bin/echo"}},
    }));
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"], "through a link\n");
    // A link to a file of the same request, in a directory made for it.
    let mut cmd = sh("cat sub/l && readlink sub/l");
    cmd["copyIn"] = json!({"data.txt": {"content": "hi\n"}, "sub/l": {"symlink": "../data.txt"}});
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"], "hi\n../data.txt\n");

    // Where the program may not write, under a file, with no target: File Errors
    // of type Symlink, each named, and nothing runs.
    for (path, link) in [
        ("/etc/evil", json!({"symlink": "/bin/echo"})),
        ("f/l", json!({"symlink": "/bin/echo"})),
        ("empty", json!({"symlink": ""})),
    ] {
        let mut cmd = sh("echo ran");
        cmd["copyIn"] = json!({"f": {"content": "x"}});
        cmd["copyIn"][path] = link;
        let r = c.run_one(cmd);
        assert_eq!(r["status"], "File Error", "{path}: {r}");
        assert_eq!(r["fileError"][0]["type"], "Symlink", "{r}");
        assert_eq!(r["fileError"][0]["name"], path, "{r}");
        assert!(r.get("files").is_none(), "{r}");
    }
    // A link is no descriptor, and takes no other source: the client's mistake.
    let mut cmd = sh("true");
    cmd["files"][0] = json!({"symlink": "/etc/passwd"});
    let reply = c.post_json("/run", &json!({"cmd": [cmd]}));
    assert_eq!(reply.status, 400);
    assert!(reply.json().as_str().unwrap().contains("copyIn only"));
    let mut cmd = sh("true");
    cmd["copyIn"] = json!({"l": {"symlink": "/bin/echo", "content": "x"}});
    assert_eq!(c.post_json("/run", &json!({"cmd": [cmd]})).status, 400);
    assert_eq!(c.get("/version").json()["symlink"], true);
}

#[test]
fn src_is_refused_when_no_prefix_is_configured() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let mut cmd = sh("cat");
    cmd["files"][0] = json!({"src": "/etc/shadow"});
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "File Error", "{r}");
    assert!(r["fileError"][0]["message"]
        .as_str()
        .unwrap()
        .contains("--src-prefix"));
    assert!(r.get("files").is_none(), "{r}");
}

#[test]
fn an_unknown_file_id_is_a_client_error_with_go_judges_message() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let mut cmd = sh("true");
    cmd["copyIn"] = json!({"a": {"fileId": "NOSUCHID"}});
    let reply = c.post_json("/run", &json!({"cmd": [cmd]}));
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.json(),
        json!("file does not exists with id: \"NOSUCHID\"")
    );
}

/// A program that says whether its own file is in the working directory, then
/// tries to change the file it runs from (its mode, times and an extended
/// attribute, through /proc/self/exe) and prints that file's mode and modification
/// time. It is compiled and run only inside the service's containers.
const SELF_WRITER: &str = r#"#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
int main(void) {
    const char *exe = "/proc/self/exe";
    int changed = chmod(exe, 0777) == 0 || utimensat(AT_FDCWD, exe, NULL, 0) == 0
        || setxattr(exe, "user.scpool", "x", 1, 0) == 0;
    struct stat st;
    stat(exe, &st);
    printf("%s %s %o %lld.%ld\n", access("a", F_OK) == 0 ? "present" : "absent",
           changed ? "changed" : "unchanged", st.st_mode & 07777,
           (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return 0;
}
"#;

#[test]
fn a_program_run_by_file_id_runs_from_the_stores_sealed_copy() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let id = compile(&mut c, "gcc", SELF_WRITER);
    let stored = c.get(&format!("/file/{id}")).body;
    // Documented difference: the program is not written into /w, and no run can
    // change the copy every later run executes.
    let mut seen = None;
    for _ in 0..3 {
        let r = run_by_id(&mut c, &id, json!({}));
        assert_eq!(r["status"], "Accepted", "{r}");
        let out = r["files"]["stdout"].as_str().unwrap().to_owned();
        assert!(out.starts_with("absent unchanged 555 "), "{r}");
        assert_eq!(seen.get_or_insert_with(|| out.clone()), &out);
    }
    assert_eq!(c.get(&format!("/file/{id}")).body, stored);
    // Files copied in beside it are there as usual.
    let r = run_by_id(
        &mut c,
        &id,
        json!({"args": ["a"], "copyIn": {"a": {"fileId": id}, "b": {"content": "x"}}, "copyOut": ["b"]}),
    );
    assert_eq!(r["files"]["b"], "x", "{r}");
    // A script stored by fileId cannot run from a descriptor: it is copied in.
    let script = c.upload("a", b"#!/bin/sh\necho script ran from $0\n");
    let script = script.json().as_str().unwrap().to_owned();
    let r = run_by_id(&mut c, &script, json!({}));
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"], "script ran from /w/a\n", "{r}");
}

#[test]
fn copy_in_programs_writes_the_program_into_w_as_go_judge_does() {
    let mut config = small_config();
    config.copy_in_programs = true;
    let s = server(config);
    let mut c = Client::new(&s);
    let id = compile(&mut c, "gcc", SELF_WRITER);
    let stored = c.get(&format!("/file/{id}")).body;
    let r = run_by_id(&mut c, &id, json!({}));
    assert_eq!(r["status"], "Accepted", "{r}");
    let out = r["files"]["stdout"].as_str().unwrap();
    assert!(out.starts_with("present "), "{r}");
    // It wrote only its own copy in /w: the stored file is unchanged.
    assert_eq!(c.get(&format!("/file/{id}")).body, stored);
    assert!(run_by_id(&mut c, &id, json!({}))["files"]["stdout"]
        .as_str()
        .unwrap()
        .starts_with("present "));
}

#[test]
fn file_endpoints_store_list_fetch_and_delete() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let reply = c.upload("in.txt", b"5 6\n");
    assert_eq!(reply.status, 200);
    let id = reply.json().as_str().unwrap().to_owned();
    assert_eq!(c.get("/file").json(), json!({ &id: "in.txt" }));
    let reply = c.get(&format!("/file/{id}"));
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body, b"5 6\n");
    assert!(reply
        .header("content-disposition")
        .unwrap()
        .contains("in.txt"));
    // Used as stdin by fileId.
    let mut cmd = sh("read a b; echo $((a*b))");
    cmd["files"][0] = json!({"fileId": id});
    assert_eq!(c.run_one(cmd)["files"]["stdout"], "30\n");
    assert_eq!(
        c.send("DELETE", &format!("/file/{id}"), "", b"").status,
        200
    );
    assert_eq!(c.get(&format!("/file/{id}")).status, 404);
    assert_eq!(
        c.send("DELETE", &format!("/file/{id}"), "", b"").status,
        404
    );
    assert_eq!(c.get("/file").json(), json!({}));
    let version = c.get("/version").json();
    assert_eq!(version["copyOutOptional"], true);
    assert_eq!(c.get("/config").status, 200);
}

#[test]
fn a_full_file_store_says_so() {
    let mut config = small_config();
    config.file_store_max = 100;
    let s = server(config);
    let mut c = Client::new(&s);
    assert_eq!(c.upload("a", &[1; 80]).status, 200);
    let reply = c.upload("b", &[1; 80]);
    assert_eq!(reply.status, 507);
    assert!(reply
        .json()
        .as_str()
        .unwrap()
        .contains("file store is full"));
    let mut cmd = sh("head -c 50 /dev/zero > out");
    cmd["copyOutCached"] = json!(["out"]);
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "File Error", "{r}");
    assert_eq!(r["fileError"][0]["type"], "CopyOutCreateFile");
}

#[test]
fn bad_requests_get_400_413_and_401() {
    let mut config = small_config();
    config.body_max = 4096;
    let s = server(config);
    let mut c = Client::new(&s);
    let reply = c.send("POST", "/run", "application/json", b"{not json");
    assert_eq!(reply.status, 400);
    assert!(reply.json().as_str().unwrap().contains("bad request body"));
    // An unknown field (a misspelt limit) is refused, not ignored.
    let reply = c.post_json(
        "/run",
        &json!({"cmd": [{"args": ["/bin/true"], "cpuLimt": 1}]}),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.json().as_str().unwrap().contains("cpuLimt"));
    let reply = c.post_json("/run", &json!({"cmd": []}));
    assert_eq!(reply.status, 400);
    let reply = c.post_json(
        "/run",
        &json!({"cmd": [{"args": ["/bin/true"], "tty": true}]}),
    );
    assert_eq!(reply.status, 400);
    assert!(reply.json().as_str().unwrap().contains("not supported"));
    let big = json!({"cmd": [{"args": ["/bin/true"], "env": ["X=".repeat(5000)]}]});
    let mut fresh = Client::new(&s);
    assert_eq!(fresh.post_json("/run", &big).status, 413);
    drop(c);
    drop(fresh);
    drop(s);

    let mut config = small_config();
    config.auth_token = Some("sesame".into());
    let s = server(config);
    let mut c = Client::new(&s);
    for path in ["/version", "/config", "/file"] {
        assert_eq!(c.get(path).status, 401, "{path}");
    }
    assert_eq!(
        c.post_json("/run", &json!({"cmd": [sh("true")]})).status,
        401
    );
    c.token = Some("wrong".into());
    assert_eq!(c.get("/version").status, 401);
    c.token = Some("sesame".into());
    assert_eq!(c.get("/version").status, 200);
    assert_eq!(c.run_one(sh("true"))["status"], "Accepted");
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scpool-serve-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_interactive_pair_talks_through_pipe_mapping_with_a_proxy() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let stderr = json!([null, null, {"name": "stderr", "max": 1024}]);
    let request = json!({
        "cmd": [
            {"args": ["/bin/sh", "-c", "read n; echo $((n+1))"], "env": [PATH], "files": stderr},
            {"args": ["/bin/sh", "-c", "echo 41; read m; [ \"$m\" = 42 ] && echo correct >&2"],
             "env": [PATH], "files": stderr},
        ],
        "pipeMapping": [
            {"in": {"index": 0, "fd": 0}, "out": {"index": 1, "fd": 1}},
            {"in": {"index": 1, "fd": 0}, "out": {"index": 0, "fd": 1},
             "proxy": true, "name": "answer", "max": 2},
        ],
    });
    let results = c.run(&request);
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["status"], "Accepted", "{results:?}");
    assert_eq!(results[1]["status"], "Accepted", "{results:?}");
    assert_eq!(results[1]["files"]["stderr"], "correct\n");
    // The proxy keeps the first `max` bytes of what passed, for the reading command,
    // and passes everything on.
    assert_eq!(results[1]["files"]["answer"], "42");

    // A mapping onto a descriptor that files already gives is refused.
    let mut bad = request.clone();
    bad["cmd"][0]["files"] = json!([{"content": ""}]);
    assert_eq!(c.post_json("/run", &bad).status, 400);
    // More commands than containers at once can never run.
    let three = json!({"cmd": [sh("true"), sh("true"), sh("true")]});
    assert_eq!(c.post_json("/run", &three).status, 400);
}

#[test]
fn the_service_answers_on_a_unix_socket() {
    use std::io::{Read, Write};
    let path = std::env::temp_dir().join(format!("scpool-serve-{}.sock", std::process::id()));
    let mut config = small_config();
    config.http_addr = None;
    config.unix_socket = Some(path.clone());
    let s = scpool_serve::start(config).unwrap();
    let body = json!({"cmd": [sh("echo over unix")]}).to_string();
    let mut stream = std::os::unix::net::UnixStream::connect(&path).unwrap();
    write!(
        stream,
        "POST /run HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.contains(r#""stdout":"over unix\n""#), "{reply}");
    s.stop();
    assert!(!path.exists(), "the socket is removed at stop");
}

#[test]
fn limits_reach_the_program() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    // stackLimit becomes RLIMIT_STACK; addressSpaceLimit makes memoryLimit RLIMIT_AS
    // too, so an allocation fails instead of the run being killed.
    let mut cmd = sh("ulimit -s; ulimit -v");
    cmd["stackLimit"] = json!(4 * MIB);
    cmd["memoryLimit"] = json!(256 * MIB);
    cmd["addressSpaceLimit"] = json!(true);
    let r = c.run_one(cmd);
    assert_eq!(
        r["files"]["stdout"],
        format!("4096\n{}\n", 256 * 1024),
        "{r}"
    );
    // cpuRateLimit is thousandths of a core, a CFS quota: slower, never killed.
    let mut cmd = sh("head -c 1 /dev/zero > /dev/null");
    cmd["cpuRateLimit"] = json!(500);
    assert_eq!(c.run_one(cmd)["status"], "Accepted");
    // realCpuLimit is go-judge's older name for clockLimit.
    let mut cmd = sh("sleep 5");
    cmd["realCpuLimit"] = json!(SECOND / 2);
    assert_eq!(c.run_one(cmd)["status"], "Time Limit Exceeded");
}

/// This process's CPUs, as /proc/self/status lists them ("0-1").
fn own_cpus() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn cpu_set_limit_confines_the_program_to_its_cpus() {
    let s = server(small_config());
    let mut c = Client::new(&s);
    let all = own_cpus();
    let last = all.rsplit([',', '-']).next().unwrap().to_owned();
    let show = "sed -n 's/^Cpus_allowed_list:[[:space:]]*//p' /proc/self/status; nproc";
    let mut cmd = sh(show);
    cmd["cpuSetLimit"] = json!(last);
    let r = c.run_one(cmd);
    assert_eq!(r["status"], "Accepted", "{r}");
    assert_eq!(r["files"]["stdout"], format!("{last}\n1\n"), "{r}");
    // The next command, in whichever container, has every CPU again.
    let r = c.run_one(sh(show));
    let count = scpool_core::CpuSet::parse(&all).unwrap().len();
    assert_eq!(r["files"]["stdout"], format!("{all}\n{count}\n"), "{r}");

    for (bad, says) in [
        ("x", "not a CPU number"),
        ("1-0", "backwards"),
        ("9999", "largest number"),
        ("4095", "does not let containers use"),
    ] {
        let mut cmd = sh("true");
        cmd["cpuSetLimit"] = json!(bad);
        let reply = c.post_json("/run", &json!({ "cmd": [cmd] }));
        assert_eq!(reply.status, 400, "{bad}");
        let message = reply.json().as_str().unwrap().to_owned();
        assert!(
            message.contains("cpuSetLimit") && message.contains(says),
            "{message}"
        );
    }
    assert_eq!(c.run_one(sh("true"))["status"], "Accepted");
}
