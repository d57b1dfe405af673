//! The help texts.

use crate::args::HelpTopic;

pub fn help_text(topic: HelpTopic) -> &'static str {
    match topic {
        HelpTopic::Main => MAIN_HELP,
        HelpTopic::Run => RUN_HELP,
        HelpTopic::Bench => BENCH_HELP,
    }
}

const MAIN_HELP: &str = "\
scpool - run untrusted programs in sandbox containers

Usage:
  scpool run [OPTIONS] [--] PROGRAM [ARGS...]   run PROGRAM in a fresh container
  scpool bench [--runs N] [--json] [--python PY] measure the cost of a run
  scpool help [run|bench]                       show help (also -h, --help)
  scpool --version                              show the version (also -V)

scpool must run as root (or in rootless mode, as a user allowed to create user
namespaces). See 'scpool run --help' for the exit status of a run.
";

const RUN_HELP: &str = "\
Run PROGRAM in a fresh sandbox container, then destroy the container.

Usage:
  scpool run [OPTIONS] [--] PROGRAM [ARGS...]

Options end at '--' or at PROGRAM, the first argument that is not an option.
A PROGRAM without '/' is looked up in the host's PATH (the container sees the
host's /bin, /usr, /lib... at the same paths); one that is not found is passed
as is, and the run then fails with RUNNER_ERROR.

Options:
      --json                  capture stdout and stderr and print one JSON object
                              as the last line of stdout (see below)
      --time-limit S          CPU time limit, seconds (e.g. 0.5)
      --wall-time-limit S     wall-clock time limit, seconds
      --memory-limit SIZE     memory limit of all the program's processes
      --address-space-limit SIZE
                              address space of each process (RLIMIT_AS):
                              allocations beyond it fail
      --output-limit SIZE     files the program writes may grow to SIZE bytes,
                              and stdout and stderr may carry SIZE bytes each;
                              more is OUTPUT_LIMIT_EXCEEDED. Without it, --json
                              captures at most 64M per stream and pass-through
                              output is unlimited
      --process-limit N       at most N processes and threads at once (fork and
                              clone fail with EAGAIN beyond it)
      --cpu-rate CORES        at most CORES of CPU (e.g. 0.5): slower, not killed
      --seccomp POLICY        default (deny escape system calls with EPERM),
                              strict (allow-list for single-process programs;
                              anything else is DISALLOWED_SYSCALL),
                              single-program (default, and any exec after
                              the program's own is DISALLOWED_SYSCALL) or off
      --stdin FILE            the program reads a sealed in-memory copy of FILE
                              (at most 1G; default: empty input)
      --env K=V               set an environment variable; repeatable. Without
                              any --env the environment is exactly
                              PATH=/usr/local/bin:/usr/bin:/bin
      --cwd DIR               working directory in the container (default: /w)
      --copy-in HOST:PATH     copy host file HOST to PATH in the container before
                              the run (keeps its permission bits); repeatable
      --copy-out PATH:HOST    copy PATH from the container to host file HOST after
                              the run; repeatable
      --cgroup MODE           auto (default: a cgroup where the host offers one,
                              else limits that need one are refused), required
                              (fail when no cgroup can be made) or off
      --cgroup-parent PATH    make the container's cgroup in PATH, a path of the
                              cgroup hierarchy as in /proc/self/cgroup (default:
                              the cgroup scpool runs in)
      --host-exec             load PROGRAM from the host into memory and run that
                              copy (the program need not be visible inside the
                              container; ELF binaries only, not #! scripts)
  -h, --help                  show this help

SIZE is a byte count with an optional suffix K, M, G or T (powers of 1024; also
KiB, MiB, GiB, TiB, any case): 65536, 512K, 256MiB. S is seconds, e.g. 2 or 0.5.
Without a cgroup (--cgroup off, or none usable with --cgroup auto) the limits
change meaning, never silently: --time-limit is RLIMIT_CPU alone (whole seconds,
per process), --memory-limit becomes the address space of each process (no
MEMORY_LIMIT_EXCEEDED), --process-limit is RLIMIT_NPROC of the container's own
uid, and --cpu-rate is refused (exit status 2). The JSON result's accounting
says what measured the run: cgroup-v1, cgroup-v2 or none.

The container's /w and /tmp are empty, writable, in-memory directories. The
program never gets the terminal: its stdout and stderr go through pipes.

Without --json, the program's stdout and stderr pass through, and the exit
status is:
  N        the program exited with code N
  128+N    the program was killed by signal N (SIGNALLED)
  124      a limit was exceeded: TIME_LIMIT_EXCEEDED, WALL_TIME_LIMIT_EXCEEDED,
           MEMORY_LIMIT_EXCEEDED or OUTPUT_LIMIT_EXCEEDED
  125      the sandbox could not run the program (RUNNER_ERROR) or killed it
           for a disallowed system call (DISALLOWED_SYSCALL)
  1        scpool itself failed (container set-up, --copy-in, --copy-out...)
  2        usage error, or a limit this build cannot enforce
For statuses 124 and 125, scpool prints 'scpool: STATUS: why' on stderr.

With --json, stdout carries only the JSON object, on one line:
  {\"status\":\"OK\",\"exit_code\":0,\"signal\":null,\"cpu_time\":0.001,
   \"user_time\":0.0008,\"system_time\":0.0002,\"wall_time\":0.002,
   \"memory\":1048576,\"setup_time\":0.0005,\"accounting\":\"cgroup-v1\",
   \"stdout\":\"...\",\"stderr\":\"...\",\"message\":\"...\"}
status is one of OK, NONZERO_EXIT, SIGNALLED, TIME_LIMIT_EXCEEDED,
WALL_TIME_LIMIT_EXCEEDED, MEMORY_LIMIT_EXCEEDED, OUTPUT_LIMIT_EXCEEDED,
DISALLOWED_SYSCALL, RUNNER_ERROR. Times are seconds (user_time and
system_time add up to cpu_time), memory is peak bytes, accounting says what
measured them (cgroup-v1, cgroup-v2, or none without a cgroup),
exit_code and signal are null when they do not apply, stdout and stderr are
text (invalid UTF-8 replaced by U+FFFD), message is present only when not
empty. The exit status is 0 whenever the program was run, whatever its
status; 1 or 2 as above when it could not be, and 1 when a --copy-out failed
(the JSON object is still printed).
";

const BENCH_HELP: &str = "\
Measure what a run costs, in one process on this machine.

Usage:
  scpool bench [--runs N] [--json] [--python PYTHON]

Compiles a static no-op program (int main(void){return 0;}) with 'cc -static'
into a fresh temporary directory (removed afterwards), then times, after a
warm-up of each:
  floor      fork+exec+wait of the no-op on the host, no sandbox (N runs)
  execve     the no-op in an existing container (N runs)
  pooled     acquire + execve + release from a pool of 2 (N runs)
  pooled-c   the same through the C ABI, alternating run for run with pooled
  pooled-py  the same through the Python module (with --python)
  acquire    the acquire alone
  fresh      create a container + execve + destroy (N/10 runs, at least 20)
  create     create + destroy
  bwrap      the no-op under bwrap --unshare-all, when bwrap is installed
  throughput pooled runs per second with 1 thread and with one per core
and an idle container's memory. Reports medians and 99th percentiles in
microseconds, and the ratios pooled/floor, pooled-c/pooled, fresh/pooled.

Options:
      --runs N         runs of each measurement (default: 1000)
      --json           print one JSON object as the last line of stdout:
                       NAME_us and NAME_p99_us for each measurement,
                       runs_per_sec, pooled_per_floor, pooled_c_per_pooled,
                       fresh_per_pooled, idle_anon_kib, runs, create_runs
      --python PYTHON  also time runs through PYTHON -m scpool.bench (the
                       interpreter needs the scpool module installed)
  -h, --help           show this help
";
