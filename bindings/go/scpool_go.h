/* Helpers for the cgo files of package scpool (each cgo file has its own
 * preamble, so they live here as static inline functions). */
#ifndef SCPOOL_GO_H
#define SCPOOL_GO_H

#include <stdlib.h>
#include <string.h>
#include <scpool.h>

// Each wrapper makes one scpool call and, on failure, fetches the thread-local
// message and errno on the same OS thread: a goroutine may move between threads
// between two cgo calls, so the pair must be one C call.
typedef struct {
	int code;
	int err_no;
	char *msg; // strdup'd; the Go side frees it
} gosp_err;

static inline int gosp_check(int code, gosp_err *e) {
	if (code != SCPOOL_ERROR_OK) {
		const char *m = scpool_last_error_message();
		e->code = code;
		e->err_no = scpool_last_error_errno();
		e->msg = strdup(m ? m : "");
	}
	return code;
}

static inline int gosp_pool_new(const scpool_pool_config *c, scpool_pool **out, gosp_err *e) {
	return gosp_check(scpool_pool_new(c, out), e);
}
static inline int gosp_pool_acquire(const scpool_pool *p, int64_t ns, scpool_container **out, gosp_err *e) {
	return gosp_check(scpool_pool_acquire(p, ns, out), e);
}
static inline int gosp_acquire_cancel_new(const scpool_pool *p, scpool_acquire_cancel **out, gosp_err *e) {
	return gosp_check(scpool_acquire_cancel_new(p, out), e);
}
static inline int gosp_pool_acquire_cancellable(const scpool_pool *p, int64_t ns, const scpool_acquire_cancel *cancel,
						scpool_container **out, gosp_err *e) {
	return gosp_check(scpool_pool_acquire_cancellable(p, ns, cancel, out), e);
}
static inline int gosp_pool_stats(const scpool_pool *p, scpool_pool_stats *s, gosp_err *e) {
	scpool_pool_stats_init(s);
	return gosp_check(scpool_pool_get_stats(p, s), e);
}
static inline int gosp_container_new(const scpool_container_config *c, scpool_container **out, gosp_err *e) {
	return gosp_check(scpool_container_new(c, out), e);
}
static inline int gosp_ping(scpool_container *c, gosp_err *e) {
	return gosp_check(scpool_container_ping(c), e);
}
static inline int gosp_reset(scpool_container *c, gosp_err *e) {
	return gosp_check(scpool_container_reset(c), e);
}
static inline int gosp_open(scpool_container *c, const scpool_open_cmd *cmds, size_t n, int *fds, gosp_err *e) {
	return gosp_check(scpool_container_open(c, cmds, n, fds), e);
}
static inline int gosp_execve(scpool_container *c, const scpool_execve_param *p, scpool_result *r, gosp_err *e) {
	scpool_result_init(r);
	return gosp_check(scpool_container_execve(c, p, r), e);
}
static inline int gosp_run(scpool_container *c, const scpool_run_param *p, scpool_result *r, gosp_err *e) {
	scpool_result_init(r);
	return gosp_check(scpool_container_run(c, p, r), e);
}
static inline int gosp_write_file(scpool_container *c, const char *path, const uint8_t *d, size_t n, gosp_err *e) {
	return gosp_check(scpool_container_write_file(c, path, d, n), e);
}
static inline int gosp_read_file(scpool_container *c, const char *path, uint8_t **d, size_t *n, gosp_err *e) {
	return gosp_check(scpool_container_read_file(c, path, d, n), e);
}
static inline int gosp_memfd_copy(const char *path, int *fd, gosp_err *e) {
	return gosp_check(scpool_memfd_copy(path, fd), e);
}

static inline int gosp_read_file_max(scpool_container *c, const char *path, uint64_t max, uint8_t **d, size_t *n,
				     gosp_err *e) {
	return gosp_check(scpool_container_read_file_max(c, path, max, d, n), e);
}
static inline int gosp_write_file_mode(scpool_container *c, const char *path, const uint8_t *d, size_t n,
				       uint32_t mode, gosp_err *e) {
	return gosp_check(scpool_container_write_file_mode(c, path, d, n, mode), e);
}
static inline int gosp_mkdir(scpool_container *c, const char *path, uint32_t mode, gosp_err *e) {
	return gosp_check(scpool_container_mkdir(c, path, mode), e);
}
static inline int gosp_symlink(scpool_container *c, const char *target, const char *link, gosp_err *e) {
	return gosp_check(scpool_container_symlink(c, target, link), e);
}
static inline int gosp_list_dir(scpool_container *c, const char *path, scpool_dir_entry **entries, size_t *n,
				gosp_err *e) {
	return gosp_check(scpool_container_list_dir(c, path, entries, n), e);
}
static inline int gosp_copy_in(scpool_container *c, const char *host, const char *dir, uint64_t max_bytes,
			       uint64_t max_entries, uint64_t *entries, uint64_t *bytes, gosp_err *e) {
	return gosp_check(scpool_container_copy_in(c, host, dir, max_bytes, max_entries, entries, bytes), e);
}
static inline int gosp_copy_out(scpool_container *c, const char *dir, const char *host, uint64_t max_bytes,
				uint64_t max_entries, uint64_t *entries, uint64_t *bytes, gosp_err *e) {
	return gosp_check(scpool_container_copy_out(c, dir, host, max_bytes, max_entries, entries, bytes), e);
}
static inline int gosp_memfd_sealed(const uint8_t *d, size_t n, int *fd, gosp_err *e) {
	return gosp_check(scpool_memfd_sealed(d, n, fd), e);
}

#endif
