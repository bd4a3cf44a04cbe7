/* mlrn_confine: run a program confined; the exec wrapper of microlearn.targets.sandbox.
 *
 * usage: mlrn_confine [options] -- PROGRAM [ARGS...]
 *   -r PATH   PATH (a directory: everything beneath it) may be read and executed
 *   -w PATH   PATH may be read, written, created in, removed from
 *   -f BYTES  RLIMIT_FSIZE: no file the program writes grows beyond BYTES (SIGXFSZ / EFBIG)
 *   -m BYTES  RLIMIT_AS: address space
 *   -t SECS   RLIMIT_CPU: CPU seconds (a backstop under the caller's wall clock)
 *   -s        the program may read its own /proc/PID (/proc/self: AddressSanitizer reads its maps)
 *   -M MODE   landlock (default): Landlock (see mlrn_landlock.h), exit 125 if the kernel has none;
 *             namespace: a private mount namespace (a user namespace too when not root) whose root
 *             holds only the -r paths (read-only) and the -w paths, plus no network (new network
 *             namespace) and no capabilities; -R DIR is an empty directory used as the new root;
 *             none: only the resource limits below.
 * Always: no core dumps (RLIMIT_CORE 0) and no new privileges (PR_SET_NO_NEW_PRIVS: set-uid
 * programs do not gain anything). Exit status 125 and a line "mlrn_confine: ..." on stderr when the
 * confinement cannot be set up: the program is never run unconfined by mistake. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mlrn_landlock.h"

#define MAX_PATHS 64

static const char *ro[MAX_PATHS], *rw[MAX_PATHS];
static int n_ro, n_rw;

static void die(const char *what) {
    fprintf(stderr, "mlrn_confine: %s: %s\n", what, strerror(errno));
    _exit(125);
}

static void add(const char **list, int *n, const char *path) {
    if (*n == MAX_PATHS) {
        errno = E2BIG;
        die("too many paths");
    }
    list[(*n)++] = path;
}

static void set_limit(int resource, const char *value) {
    struct rlimit rl;
    char *end;
    unsigned long long v = strtoull(value, &end, 10);
    if (*value == '\0' || *end != '\0') {
        errno = EINVAL;
        die("bad limit");
    }
    rl.rlim_cur = rl.rlim_max = (rlim_t)v;
    if (setrlimit(resource, &rl) != 0) die("setrlimit");
}

static void landlock(void) {
    struct mlrn_ll ll;
    int i;
    if (mlrn_ll_begin(&ll) != 0) die("Landlock unavailable");
    for (i = 0; i < n_ro; i++)
        if (mlrn_ll_allow(&ll, ro[i], 0) < 0) die(ro[i]);
    for (i = 0; i < n_rw; i++)
        if (mlrn_ll_allow(&ll, rw[i], 1) < 0) die(rw[i]);
    if (mlrn_ll_enforce(&ll) != 0) die("landlock_restrict_self");
}

/* ---- namespace mode ---------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) die(path);
    close(fd);
}

/* mkdir -p of every component of `path` (absolute, below the new root) except the last. */
static void make_parents(char *path) {
    char *p;
    for (p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) die(path);
        *p = '/';
    }
}

static unsigned long locked_flags(const char *path) {
    struct statvfs sv;
    unsigned long keep = ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME;
    if (statvfs(path, &sv) != 0) die(path);
    return sv.f_flag & keep; /* ST_* equal MS_* for these flags */
}

static void bind(const char *root, const char *src, int writable) {
    char dst[PATH_MAX], link[PATH_MAX];
    struct stat st;
    ssize_t n;
    if (snprintf(dst, sizeof dst, "%s%s", root, src) >= (int)sizeof dst) {
        errno = ENAMETOOLONG;
        die(src);
    }
    if (lstat(src, &st) != 0) return; /* absent on this system: nothing to show */
    if (lstat(dst, &st) == 0 && !writable) return; /* already visible through an earlier path */
    make_parents(dst);
    if (lstat(src, &st) == 0 && S_ISLNK(st.st_mode)) { /* /lib -> usr/lib: the same link inside */
        n = readlink(src, link, sizeof link - 1);
        if (n < 0) die(src);
        link[n] = '\0';
        if (symlink(link, dst) != 0 && errno != EEXIST) die(dst);
        return;
    }
    if (stat(src, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        if (mkdir(dst, 0755) != 0 && errno != EEXIST) die(dst);
    } else {
        int fd = open(dst, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EISDIR) die(dst);
        if (fd >= 0) close(fd);
    }
    if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) != 0) die(src);
    if (!writable && mount(NULL, dst, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(dst), NULL) != 0)
        die(src);
}

static void drop_capabilities(void) {
    struct {
        uint32_t version;
        int pid;
    } hdr = {0x20080522 /* _LINUX_CAPABILITY_VERSION_3 */, 0};
    uint32_t data[6] = {0, 0, 0, 0, 0, 0};
    int c;
    for (c = 0; c < 64; c++)
        if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL) die("PR_CAPBSET_DROP");
#ifdef PR_CAP_AMBIENT
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
#endif
    if (syscall(SYS_capset, &hdr, data) != 0) die("capset");
}

static void namespace(const char *root, int own_proc) {
    char cwd[PATH_MAX], map[64], self[PATH_MAX];
    uid_t uid = geteuid();
    gid_t gid = getegid();
    int flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC, i;
    if (!root) {
        errno = EINVAL;
        die("namespace mode needs -R DIR");
    }
    if (!getcwd(cwd, sizeof cwd)) die("getcwd");
    if (unshare(flags) != 0) {
        if (unshare(flags | CLONE_NEWUSER) != 0) die("unshare");
        write_file("/proc/self/setgroups", "deny");
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
        write_file("/proc/self/uid_map", map);
        snprintf(map, sizeof map, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
        write_file("/proc/self/gid_map", map);
    }
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make / private");
    if (mount("mlrn", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) die("tmpfs root");
    /* read-only first: a writable directory inside a read-only one is then mounted on top of it */
    for (i = 0; i < n_ro; i++) bind(root, ro[i], 0);
    for (i = 0; i < n_rw; i++) bind(root, rw[i], 1);
    if (own_proc) { /* /proc/self -> PID: no other process is visible, and no procfs is mounted */
        snprintf(self, sizeof self, "%s/proc/self", root);
        snprintf(map, sizeof map, "%ld", (long)getpid());
        if (symlink(map, self) != 0) die(self);
    }
    if (chdir(root) != 0) die(root);
    if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
    if (umount2(".", MNT_DETACH) != 0) die("detach the old root");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) != 0)
        die("read-only root");
    if (chdir(cwd) != 0 && chdir("/") != 0) die("chdir");
    drop_capabilities();
}

int main(int argc, char **argv) {
    const char *mode = "landlock", *root = NULL;
    char self[64];
    int i, own_proc = 0;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(opt, "-s") == 0) {
            own_proc = 1;
            continue;
        }
        if (!val || strlen(opt) != 2 || opt[0] != '-') {
            errno = EINVAL;
            die(opt);
        }
        i++;
        switch (opt[1]) {
        case 'r': add(ro, &n_ro, val); break;
        case 'w': add(rw, &n_rw, val); break;
        case 'f': set_limit(RLIMIT_FSIZE, val); break;
        case 'm': set_limit(RLIMIT_AS, val); break;
        case 't': set_limit(RLIMIT_CPU, val); break;
        case 'M': mode = val; break;
        case 'R': root = val; break;
        default: errno = EINVAL; die(opt);
        }
    }
    if (i + 1 >= argc) {
        fprintf(stderr, "usage: %s [-r PATH] [-w PATH] [-f BYTES] [-m BYTES] [-t SECS] [-s] "
                        "[-M landlock|namespace|none] [-R DIR] -- PROGRAM [ARGS...]\n", argv[0]);
        return 125;
    }
    set_limit(RLIMIT_CORE, "0");
    if (own_proc) { /* the exec keeps the pid: /proc/self of the program is this directory */
        snprintf(self, sizeof self, "/proc/%ld", (long)getpid());
        add(ro, &n_ro, self);
    }
    if (strcmp(mode, "landlock") == 0) landlock();
    else if (strcmp(mode, "namespace") == 0) namespace(root, own_proc);
    else if (strcmp(mode, "none") != 0) {
        errno = EINVAL;
        die(mode);
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS");
    execv(argv[i + 1], argv + i + 1);
    die(argv[i + 1]);
    return 125;
}
