/* mlrn_landlock.h: a small Landlock confinement for Linux host programs (header only).
 *
 * Used by mlrn_confine.c (the exec wrapper every emulator and host program runs under) and by the
 * simavr runners (which also confine themselves, for callers that start them directly).
 *
 *   struct mlrn_ll ll;
 *   if (mlrn_ll_begin(&ll) != 0) ...            // -1: this kernel has no Landlock (errno says why)
 *   mlrn_ll_allow(&ll, "/usr", 0);              // read + execute beneath /usr
 *   mlrn_ll_allow(&ll, run_dir, 1);             // read + write beneath run_dir
 *   if (mlrn_ll_enforce(&ll) != 0) ...          // from now on: nothing else, for this process and
 *                                               // everything it executes
 *
 * What is handled (everything this kernel's ABI knows): every file-system access right (so a path
 * not allowed cannot be opened, created, removed, renamed, linked, truncated, or ioctl'ed as a
 * device), TCP bind and connect (ABI 4: no rule allows any port, so no TCP at all), and the scopes
 * of ABI 6 (no signals to processes outside the sandbox, no abstract unix sockets outside it).
 * Constants follow include/uapi/linux/landlock.h; they are written out because the installed
 * headers may predate them. The syscall numbers (444-446) are the same on every architecture. */
#ifndef MLRN_LANDLOCK_H
#define MLRN_LANDLOCK_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MLRN_LL_SYS_CREATE 444
#define MLRN_LL_SYS_ADD 445
#define MLRN_LL_SYS_RESTRICT 446

#define MLRN_LL_FS_EXECUTE (1ULL << 0)
#define MLRN_LL_FS_WRITE_FILE (1ULL << 1)
#define MLRN_LL_FS_READ_FILE (1ULL << 2)
#define MLRN_LL_FS_READ_DIR (1ULL << 3)
#define MLRN_LL_FS_REFER (1ULL << 13)     /* ABI 2 */
#define MLRN_LL_FS_TRUNCATE (1ULL << 14)  /* ABI 3 */
#define MLRN_LL_FS_IOCTL_DEV (1ULL << 15) /* ABI 5 */
#define MLRN_LL_NET_BIND_TCP (1ULL << 0)  /* ABI 4 */
#define MLRN_LL_NET_CONNECT_TCP (1ULL << 1)
#define MLRN_LL_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define MLRN_LL_SCOPE_SIGNAL (1ULL << 1)

/* Rights that apply to a file (not a directory) in a rule. */
#define MLRN_LL_FILE_RIGHTS \
    (MLRN_LL_FS_EXECUTE | MLRN_LL_FS_WRITE_FILE | MLRN_LL_FS_READ_FILE | MLRN_LL_FS_TRUNCATE | MLRN_LL_FS_IOCTL_DEV)
#define MLRN_LL_READ_RIGHTS (MLRN_LL_FS_EXECUTE | MLRN_LL_FS_READ_FILE | MLRN_LL_FS_READ_DIR)

struct mlrn_ll_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct mlrn_ll_path_beneath {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct mlrn_ll {
    int fd;
    int abi;
    uint64_t fs;
};

/* The kernel's Landlock ABI version; 0 when it has none (ENOSYS) or has it switched off (EOPNOTSUPP). */
static inline int mlrn_ll_abi(void) {
    long v = syscall(MLRN_LL_SYS_CREATE, NULL, (size_t)0, (uint32_t)1 /* LANDLOCK_CREATE_RULESET_VERSION */);
    return v > 0 ? (int)v : 0;
}

static inline int mlrn_ll_begin(struct mlrn_ll *ll) {
    struct mlrn_ll_attr attr;
    size_t size;
    long fd;
    ll->fd = -1;
    ll->abi = mlrn_ll_abi();
    if (ll->abi <= 0) {
        errno = ENOSYS;
        return -1;
    }
    memset(&attr, 0, sizeof attr);
    ll->fs = (1ULL << 13) - 1; /* ABI 1: execute .. make_sym */
    if (ll->abi >= 2) ll->fs |= MLRN_LL_FS_REFER;
    if (ll->abi >= 3) ll->fs |= MLRN_LL_FS_TRUNCATE;
    if (ll->abi >= 5) ll->fs |= MLRN_LL_FS_IOCTL_DEV;
    attr.handled_access_fs = ll->fs;
    size = sizeof attr.handled_access_fs;
    if (ll->abi >= 4) {
        attr.handled_access_net = MLRN_LL_NET_BIND_TCP | MLRN_LL_NET_CONNECT_TCP;
        size = offsetof(struct mlrn_ll_attr, scoped);
    }
    if (ll->abi >= 6) {
        attr.scoped = MLRN_LL_SCOPE_ABSTRACT_UNIX | MLRN_LL_SCOPE_SIGNAL;
        size = sizeof attr;
    }
    fd = syscall(MLRN_LL_SYS_CREATE, &attr, size, (uint32_t)0);
    if (fd < 0) return -1;
    ll->fd = (int)fd;
    return 0;
}

/* Allow `path` (and everything beneath it, for a directory): read + execute, or everything when
 * `writable`. A path that does not exist is skipped (returns 1): there is nothing to allow. */
static inline int mlrn_ll_allow(struct mlrn_ll *ll, const char *path, int writable) {
    struct mlrn_ll_path_beneath rule;
    struct stat st;
    long rc;
    int pfd = open(path, O_PATH | O_CLOEXEC);
    if (pfd < 0) return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 1 : -1;
    if (fstat(pfd, &st) != 0) {
        close(pfd);
        return -1;
    }
    rule.allowed_access = (writable ? ll->fs : MLRN_LL_READ_RIGHTS) & ll->fs;
    if (!S_ISDIR(st.st_mode)) rule.allowed_access &= MLRN_LL_FILE_RIGHTS;
    rule.parent_fd = pfd;
    rc = syscall(MLRN_LL_SYS_ADD, ll->fd, 1 /* LANDLOCK_RULE_PATH_BENEATH */, &rule, (uint32_t)0);
    close(pfd);
    return rc == 0 ? 0 : -1;
}

static inline int mlrn_ll_enforce(struct mlrn_ll *ll) {
    long rc;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
    rc = syscall(MLRN_LL_SYS_RESTRICT, ll->fd, (uint32_t)0);
    close(ll->fd);
    ll->fd = -1;
    return rc == 0 ? 0 : -1;
}

#endif
