/*
 * durablefs: a FUSE 3 pass-through file system that knows what a power cut would keep.
 *
 * Every operation goes to a backing folder. Beside the live tree it keeps the durable one, under the storage
 * contract of LazyFS and SQLite's crash VFS: a file's bytes become durable at fsync/fdatasync of that file; a
 * folder's entries (create, mkdir, rename, link, unlink, rmdir, symlink in it) only at fsync of the folder
 * itself. Everything in the backing folder at mount time is durable. A power cut writes the durable tree alone
 * into a fresh folder (--cut-to), which the driver then mounts in place of the old backing folder: a file whose
 * name is durable but whose bytes never were comes back empty; a folder whose entry never was vanishes with
 * everything under it.
 *
 * Files and folders are known by their backing inode number, and each creation starts a new record, so an inode
 * number the backing file system reuses never inherits an earlier file's durable bytes.
 *
 * A power cut happens when
 *   - someone stats the special path /.durablefs-powercut (the stat answers ENOENT), or
 *   - the trigger fires: --trigger OP:GLOB:N names the N-th operation OP (write, fsync, fsyncdir, create, open,
 *     mkdir, rmdir, unlink, rename, link, symlink, truncate, chmod, or "any") whose path, relative to the mount
 *     root, matches the fnmatch(3) pattern GLOB (`*` crosses slashes; rename and link match either name). The
 *     calling process gets SIGKILL before the operation is carried out; with --on-trigger cut (the default) the
 *     power is cut at that same instant, so no later operation counts; --on-trigger kill kills alone.
 * After a cut nothing becomes durable any more; the driver unmounts.
 * The last operations before a cut are written to standard error (the op log).
 *
 * Usage: durablefs BACKING MOUNTPOINT [--cut-to DIR] [--trigger OP:GLOB:N] [--on-trigger cut|kill] [--verbose]
 *        [FUSE options]
 * It runs single-threaded (-s) so that the model sees operations in one order.
 */
#define FUSE_USE_VERSION 31
#define _GNU_SOURCE
#include <fuse.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define POWERCUT_PATH "/.durablefs-powercut"

/* ---------------------------------------------------------------- the durable model */

struct dent { char *name; int rec; };

/* One file, folder or symlink as the model knows it. */
struct rec {
    char type;                     /* 'f', 'd', 'l' */
    mode_t mode;
    unsigned char *data; size_t len; int has_data;   /* file: bytes at its last fsync */
    char *target;                                    /* symlink */
    struct dent *ents; int nents;                    /* folder: entries at its last fsync */
    char *made;                                      /* set while materialising: where it went */
};

static struct rec *recs; static int nrecs, caprecs;

/* live inode number -> current record */
#define NBUCKETS 8192
struct inomap { ino_t ino; int rec; struct inomap *next; };
static struct inomap *buckets[NBUCKETS];

static int rec_of(ino_t ino) {
    for (struct inomap *m = buckets[ino % NBUCKETS]; m; m = m->next) if (m->ino == ino) return m->rec;
    return -1;
}

static int new_rec(ino_t ino, char type, mode_t mode) {
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 1024;
        recs = realloc(recs, sizeof *recs * caprecs);
        if (!recs) { perror("durablefs"); exit(70); }
    }
    int id = nrecs++;
    memset(&recs[id], 0, sizeof recs[id]);
    recs[id].type = type;
    recs[id].mode = mode & 07777;
    struct inomap *m;
    for (m = buckets[ino % NBUCKETS]; m; m = m->next) if (m->ino == ino) break;
    if (!m) {
        m = calloc(1, sizeof *m);
        m->ino = ino;
        m->next = buckets[ino % NBUCKETS];
        buckets[ino % NBUCKETS] = m;
    }
    m->rec = id;
    return id;
}

static char type_of(mode_t m) { return S_ISDIR(m) ? 'd' : S_ISLNK(m) ? 'l' : 'f'; }

/* The record of a live inode; one made now if the model never saw it (it cannot be durable yet). */
static int rec_for(const struct stat *st) {
    int r = rec_of(st->st_ino);
    if (r < 0 || recs[r].type != type_of(st->st_mode)) r = new_rec(st->st_ino, type_of(st->st_mode), st->st_mode);
    return r;
}

static int rootfd = -1;
static int frozen;                 /* after a power cut nothing becomes durable */
static char *cut_to;
static char *trigger_op, *trigger_glob; static long trigger_n, trigger_seen; static int trigger_cut = 1, trigger_done;
static long opseq;
static int verbose;                /* --verbose: every operation on standard error as it happens */

/* ---------------------------------------------------------------- the op log */

#define LOGN 64
static char oplog[LOGN][PATH_MAX + 64];

static void logop(const char *op, const char *path, const char *path2) {
    opseq++;
    snprintf(oplog[opseq % LOGN], sizeof oplog[0], "#%ld pid %d %s %s%s%s", opseq,
             (int)fuse_get_context()->pid, op, path ? path : "?", path2 ? " -> " : "", path2 ? path2 : "");
    if (verbose) fprintf(stderr, "%s\n", oplog[opseq % LOGN]);
}

static void dump_oplog(const char *why) {
    fprintf(stderr, "durablefs: power cut (%s); the last operations:\n", why);
    long from = opseq - LOGN + 1 < 1 ? 1 : opseq - LOGN + 1;
    for (long i = from; i <= opseq; i++) fprintf(stderr, "  %s\n", oplog[i % LOGN]);
    fflush(stderr);
}

/* ---------------------------------------------------------------- helpers */

/* "/a/b" -> "a/b", "/" -> "." (paths relative to rootfd). */
static const char *rel(const char *path) {
    if (!path) return NULL;
    while (*path == '/') path++;
    return *path ? path : ".";
}

static unsigned char *slurp_fd(int fd, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (n == cap) buf = realloc(buf, cap *= 2);
        ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
        if (r < 0) { if (errno == EINTR) continue; free(buf); return NULL; }
        if (r == 0) break;
        n += (size_t)r;
    }
    *len = n;
    return buf;
}

/* A file's bytes through a descriptor opened for writing only: /proc reopens it for reading, unlinked or not. */
static void snapshot_file(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0) return;
    int r = rec_for(&st);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    int rfd = open(proc, O_RDONLY | O_CLOEXEC);
    if (rfd < 0) { fprintf(stderr, "durablefs: cannot reread fd %d: %s\n", fd, strerror(errno)); return; }
    size_t len;
    unsigned char *data = slurp_fd(rfd, &len);
    close(rfd);
    if (!data) return;
    free(recs[r].data);
    recs[r].data = data; recs[r].len = len; recs[r].has_data = 1;
    recs[r].mode = st.st_mode & 07777;
}

/* A folder's entries as they are now become its durable entries. */
static int snapshot_dir(int dfd, int r) {
    int fd = dup(dfd);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) { int e = errno; close(fd); return -e; }
    rewinddir(d);
    for (int i = 0; i < recs[r].nents; i++) free(recs[r].ents[i].name);
    free(recs[r].ents);
    recs[r].ents = NULL; recs[r].nents = 0;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        int c = rec_for(&st);
        if (recs[r].nents == cap) recs[r].ents = realloc(recs[r].ents, sizeof(struct dent) * (cap = cap ? cap * 2 : 16));
        recs[r].ents[recs[r].nents].name = strdup(e->d_name);
        recs[r].ents[recs[r].nents].rec = c;
        recs[r].nents++;
    }
    closedir(d);
    return 0;
}

/* Mount time: everything there is durable. */
static void scan(int dfd, int r) {
    snapshot_dir(dfd, r);
    for (int i = 0; i < recs[r].nents; i++) {
        struct rec *c = &recs[recs[r].ents[i].rec];
        const char *name = recs[r].ents[i].name;
        if (c->type == 'd') {
            int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (sub >= 0) { scan(sub, recs[r].ents[i].rec); close(sub); }
        } else if (c->type == 'l') {
            char buf[PATH_MAX];
            ssize_t n = readlinkat(dfd, name, buf, sizeof buf - 1);
            if (n >= 0) { buf[n] = 0; c->target = strdup(buf); }
        } else if (!c->has_data) {
            int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
            if (fd >= 0) { snapshot_file(fd); close(fd); }
        }
    }
}

static int materialise(int r, const char *path) {
    struct rec *c = &recs[r];
    if (c->type == 'd') {
        if (c->made) return 0;     /* a folder renamed without fsync of the old parent: it comes back once */
        if (mkdir(path, 0700) != 0 && errno != EEXIST) return -1;
        c->made = strdup(path);
        for (int i = 0; i < c->nents; i++) {
            char child[PATH_MAX];
            snprintf(child, sizeof child, "%s/%s", path, c->ents[i].name);
            if (materialise(c->ents[i].rec, child) != 0) return -1;
        }
        chmod(path, c->mode ? c->mode : 0700);
        return 0;
    }
    if (c->type == 'l') return symlink(c->target ? c->target : "", path);
    if (c->made) return link(c->made, path);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, c->mode ? c->mode : 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (c->has_data && off < c->len) {
        ssize_t n = write(fd, c->data + off, c->len - off);
        if (n < 0) { if (errno == EINTR) continue; close(fd); return -1; }
        off += (size_t)n;
    }
    fchmod(fd, c->mode ? c->mode : 0600);
    close(fd);
    c->made = strdup(path);
    return 0;
}

static void power_cut(const char *why) {
    if (frozen) return;
    frozen = 1;
    dump_oplog(why);
    if (!cut_to) { fprintf(stderr, "durablefs: power cut without --cut-to: nothing kept\n"); return; }
    for (int i = 0; i < nrecs; i++) { free(recs[i].made); recs[i].made = NULL; }
    /* the root is record 0 */
    if (materialise(0, cut_to) != 0) {
        fprintf(stderr, "durablefs: cannot write the durable state to %s: %s\n", cut_to, strerror(errno));
        return;
    }
    fprintf(stderr, "durablefs: durable state written to %s\n", cut_to);
}

/* Counts the operation against the trigger; when it fires, kills the caller (and cuts the power). Returns
 * nonzero when the operation must not be carried out. */
static int check(const char *op, const char *path, const char *path2) {
    logop(op, path, path2);
    if (!trigger_op || trigger_done) return 0;
    if (strcmp(trigger_op, "any") && strcmp(trigger_op, op)) return 0;
    const char *a = path ? rel(path) : NULL, *b = path2 ? rel(path2) : NULL;
    if (!((a && !fnmatch(trigger_glob, a, 0)) || (b && !fnmatch(trigger_glob, b, 0)))) return 0;
    if (++trigger_seen < trigger_n) return 0;
    trigger_done = 1;
    pid_t tid = fuse_get_context()->pid, pid = tid;
    char proc[64], line[256];
    snprintf(proc, sizeof proc, "/proc/%d/status", (int)tid);
    FILE *f = fopen(proc, "r");
    while (f && fgets(line, sizeof line, f)) if (!strncmp(line, "Tgid:", 5)) pid = (pid_t)atoi(line + 5);
    if (f) fclose(f);
    char why[PATH_MAX * 2 + 128];
    snprintf(why, sizeof why, "trigger %s:%s:%ld hit by pid %d", trigger_op, trigger_glob, trigger_n, (int)pid);
    if (trigger_cut) power_cut(why);
    else fprintf(stderr, "durablefs: %s; killed, power kept\n", why);
    kill(pid, SIGKILL);
    return 1;
}

/* ---------------------------------------------------------------- open files */

struct fh { int fd; char *path; };

static struct fh *fh_of(struct fuse_file_info *fi) { return (struct fh *)(uintptr_t)fi->fh; }

static uint64_t fh_new(int fd, const char *path) {
    struct fh *h = malloc(sizeof *h);
    h->fd = fd;
    h->path = strdup(path ? path : "?");
    return (uint64_t)(uintptr_t)h;
}

static void fh_free(struct fuse_file_info *fi) {
    struct fh *h = fh_of(fi);
    close(h->fd);
    free(h->path);
    free(h);
}

/* ---------------------------------------------------------------- operations */

static void *dfs_init(struct fuse_conn_info *conn, struct fuse_config *cfg) {
    (void)conn;
    cfg->use_ino = 1;
    cfg->nullpath_ok = 1;
    cfg->hard_remove = 1;          /* no .fuse_hidden files: an unlinked open file is gone from its folder */
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    return NULL;
}

static int dfs_getattr(const char *path, struct stat *st, struct fuse_file_info *fi) {
    if (path && !strcmp(path, POWERCUT_PATH)) { power_cut("requested"); return -ENOENT; }
    int r = fi ? fstat(fh_of(fi)->fd, st) : fstatat(rootfd, rel(path), st, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? 0 : -errno;
}

static int dfs_access(const char *path, int mask) {
    return faccessat(rootfd, rel(path), mask, AT_SYMLINK_NOFOLLOW) == 0 ? 0 : -errno;
}

static int dfs_readlink(const char *path, char *buf, size_t size) {
    ssize_t n = readlinkat(rootfd, rel(path), buf, size - 1);
    if (n < 0) return -errno;
    buf[n] = 0;
    return 0;
}

static int dfs_opendir(const char *path, struct fuse_file_info *fi) {
    int fd = openat(rootfd, rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    fi->fh = fh_new(fd, path);
    return 0;
}

static int dfs_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t off, struct fuse_file_info *fi,
                       enum fuse_readdir_flags flags) {
    (void)path; (void)off; (void)flags;
    int fd = dup(fh_of(fi)->fd);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) { int e = errno; close(fd); return -e; }
    rewinddir(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        struct stat st;
        memset(&st, 0, sizeof st);
        st.st_ino = e->d_ino;
        st.st_mode = (mode_t)DTTOIF(e->d_type);
        if (filler(buf, e->d_name, &st, 0, 0)) break;
    }
    closedir(d);
    return 0;
}

static int dfs_releasedir(const char *path, struct fuse_file_info *fi) { (void)path; fh_free(fi); return 0; }

static int dfs_fsyncdir(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)datasync;
    if (check("fsyncdir", fh_of(fi)->path, NULL)) return -EIO;
    (void)path;
    if (frozen) return 0;
    struct stat st;
    if (fstat(fh_of(fi)->fd, &st) != 0) return -errno;
    return snapshot_dir(fh_of(fi)->fd, rec_for(&st));
}

static int dfs_mkdir(const char *path, mode_t mode) {
    if (check("mkdir", path, NULL)) return -EIO;
    if (mkdirat(rootfd, rel(path), mode) != 0) return -errno;
    struct stat st;
    if (fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0) new_rec(st.st_ino, 'd', st.st_mode);
    return 0;
}

static int dfs_symlink(const char *target, const char *path) {
    if (check("symlink", path, NULL)) return -EIO;
    if (symlinkat(target, rootfd, rel(path)) != 0) return -errno;
    struct stat st;
    if (fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0) recs[new_rec(st.st_ino, 'l', st.st_mode)].target = strdup(target);
    return 0;
}

static int dfs_unlink(const char *path) {
    if (check("unlink", path, NULL)) return -EIO;
    return unlinkat(rootfd, rel(path), 0) == 0 ? 0 : -errno;
}

static int dfs_rmdir(const char *path) {
    if (check("rmdir", path, NULL)) return -EIO;
    return unlinkat(rootfd, rel(path), AT_REMOVEDIR) == 0 ? 0 : -errno;
}

static int dfs_rename(const char *from, const char *to, unsigned int flags) {
    if (check("rename", from, to)) return -EIO;
    if (flags) return -EINVAL;     /* mt renames with rename(2) only */
    return renameat(rootfd, rel(from), rootfd, rel(to)) == 0 ? 0 : -errno;
}

static int dfs_link(const char *from, const char *to) {
    if (check("link", from, to)) return -EIO;
    return linkat(rootfd, rel(from), rootfd, rel(to), 0) == 0 ? 0 : -errno;
}

static int dfs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi) {
    if (check("chmod", fi ? fh_of(fi)->path : path, NULL)) return -EIO;
    int r = fi ? fchmod(fh_of(fi)->fd, mode) : fchmodat(rootfd, rel(path), mode, 0);
    if (r != 0) return -errno;
    struct stat st;
    if ((fi ? fstat(fh_of(fi)->fd, &st) : fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW)) == 0)
        recs[rec_for(&st)].mode = st.st_mode & 07777;
    return 0;
}

static int dfs_chown(const char *path, uid_t uid, gid_t gid, struct fuse_file_info *fi) {
    int r = fi ? fchown(fh_of(fi)->fd, uid, gid) : fchownat(rootfd, rel(path), uid, gid, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? 0 : -errno;
}

static int dfs_truncate(const char *path, off_t size, struct fuse_file_info *fi) {
    if (check("truncate", fi ? fh_of(fi)->path : path, NULL)) return -EIO;
    if (fi) return ftruncate(fh_of(fi)->fd, size) == 0 ? 0 : -errno;
    int fd = openat(rootfd, rel(path), O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return -errno;
    int r = ftruncate(fd, size) == 0 ? 0 : -errno;
    close(fd);
    return r;
}

static int dfs_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi) {
    int r = fi ? futimens(fh_of(fi)->fd, tv) : utimensat(rootfd, rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return r == 0 ? 0 : -errno;
}

static int dfs_create(const char *path, mode_t mode, struct fuse_file_info *fi) {
    if (check("create", path, NULL)) return -EIO;
    struct stat st;
    int existed = fstatat(rootfd, rel(path), &st, AT_SYMLINK_NOFOLLOW) == 0;
    int fd = openat(rootfd, rel(path), fi->flags | O_CREAT | O_CLOEXEC, mode);
    if (fd < 0) return -errno;
    /* O_CREAT without O_EXCL may open an existing file: that one keeps its record */
    if (!existed && fstat(fd, &st) == 0) new_rec(st.st_ino, 'f', st.st_mode);
    fi->fh = fh_new(fd, path);
    return 0;
}

static int dfs_open(const char *path, struct fuse_file_info *fi) {
    if (check("open", path, NULL)) return -EIO;
    int fd = openat(rootfd, rel(path), fi->flags | O_CLOEXEC);
    if (fd < 0) return -errno;
    fi->fh = fh_new(fd, path);
    return 0;
}

static int dfs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path;
    ssize_t n = pread(fh_of(fi)->fd, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int dfs_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)path;
    if (check("write", fh_of(fi)->path, NULL)) return -EIO;
    /* a descriptor opened O_APPEND appends whatever the offset (pwrite(2) on Linux), as the caller asked */
    ssize_t n = pwrite(fh_of(fi)->fd, buf, size, off);
    return n < 0 ? -errno : (int)n;
}

static int dfs_statfs(const char *path, struct statvfs *st) {
    (void)path;
    return fstatvfs(rootfd, st) == 0 ? 0 : -errno;
}

static int dfs_release(const char *path, struct fuse_file_info *fi) { (void)path; fh_free(fi); return 0; }

static int dfs_fsync(const char *path, int datasync, struct fuse_file_info *fi) {
    (void)path; (void)datasync;
    if (check("fsync", fh_of(fi)->path, NULL)) return -EIO;
    if (!frozen) snapshot_file(fh_of(fi)->fd);
    return 0;
}

static const struct fuse_operations ops = {
    .init = dfs_init,
    .getattr = dfs_getattr,
    .access = dfs_access,
    .readlink = dfs_readlink,
    .opendir = dfs_opendir,
    .readdir = dfs_readdir,
    .releasedir = dfs_releasedir,
    .fsyncdir = dfs_fsyncdir,
    .mkdir = dfs_mkdir,
    .symlink = dfs_symlink,
    .unlink = dfs_unlink,
    .rmdir = dfs_rmdir,
    .rename = dfs_rename,
    .link = dfs_link,
    .chmod = dfs_chmod,
    .chown = dfs_chown,
    .truncate = dfs_truncate,
    .utimens = dfs_utimens,
    .create = dfs_create,
    .open = dfs_open,
    .read = dfs_read,
    .write = dfs_write,
    .statfs = dfs_statfs,
    .release = dfs_release,
    .fsync = dfs_fsync,
    /* no .flock or .lock: the kernel then keeps flock(2) and POSIX locks itself, per mount, as mt needs */
};

static void usage(void) {
    fprintf(stderr, "usage: durablefs BACKING MOUNTPOINT [--cut-to DIR] [--trigger OP:GLOB:N] [--on-trigger cut|kill] [--verbose] [fuse options]\n");
    exit(64);
}

int main(int argc, char **argv) {
    if (argc < 3) usage();
    const char *backing = argv[1];
    char **fargs = calloc((size_t)argc + 8, sizeof *fargs);
    int nf = 0;
    fargs[nf++] = argv[0];
    fargs[nf++] = argv[2];
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--cut-to") && i + 1 < argc) {
            /* fuse_main changes to / */
            const char *d = argv[++i];
            char cwd[PATH_MAX];
            if (d[0] == '/' || !getcwd(cwd, sizeof cwd)) cut_to = strdup(d);
            else if (asprintf(&cut_to, "%s/%s", cwd, d) < 0) exit(70);
        } else if (!strcmp(argv[i], "--verbose")) verbose = 1;
        else if (!strcmp(argv[i], "--trigger") && i + 1 < argc) {
            char *spec = strdup(argv[++i]);
            char *a = strchr(spec, ':'), *b = a ? strrchr(spec, ':') : NULL;
            if (!a || a == b) { fprintf(stderr, "durablefs: --trigger wants OP:GLOB:N, got %s\n", spec); exit(64); }
            *a = 0; *b = 0;
            trigger_op = spec; trigger_glob = a + 1; trigger_n = atol(b + 1);
            if (trigger_n < 1) { fprintf(stderr, "durablefs: --trigger count must be 1 or more\n"); exit(64); }
        } else if (!strcmp(argv[i], "--on-trigger") && i + 1 < argc) {
            i++;
            if (!strcmp(argv[i], "cut")) trigger_cut = 1;
            else if (!strcmp(argv[i], "kill")) trigger_cut = 0;
            else usage();
        } else fargs[nf++] = argv[i];
    }
    fargs[nf++] = "-s";
    fargs[nf++] = "-f";
    fargs[nf++] = "-o";
    fargs[nf++] = "default_permissions,fsname=durablefs,subtype=durablefs";
    umask(0);                      /* the kernel has applied the caller's umask already */
    rootfd = open(backing, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) { fprintf(stderr, "durablefs: cannot open %s: %s\n", backing, strerror(errno)); return 66; }
    if (cut_to && access(cut_to, F_OK) == 0) { fprintf(stderr, "durablefs: %s exists already\n", cut_to); return 73; }
    struct stat st;
    fstat(rootfd, &st);
    scan(rootfd, new_rec(st.st_ino, 'd', st.st_mode));
    return fuse_main(nf, fargs, &ops, NULL);
}
