/* SPDX-License-Identifier: MIT */
/*
 * sandbox-probe: one escape attempt per invocation, for the escape suite. Prints "ok" and
 * exits 0 when the attempt succeeded, prints "denied: <reason>" and exits 1 when it did not.
 *   socket inet|inet6|netlink|vsock|packet|unix|unix-wide
 *                                             open a socket of that family (unix-wide:
 *                                             AF_UNIX with bit 32 of the argument set)
 *   io_uring                                  set up an io_uring
 *   ptrace PID | vmread PID | getfd PID       reach into another process
 *   signal PID                                send it signal 0
 *   abstract NAME                             connect to an abstract Unix socket
 *   unix TYPE ADDR                            socket(AF_UNIX, TYPE), connect to ADDR, send
 *                                             "ping" (stream, seqpacket: and read a reply)
 *   pairconnect TYPE ADDR                     socketpair(AF_UNIX, TYPE), connect one end
 *                                             to ADDR again, send "ping"
 *   pairsendto TYPE ADDR                      socketpair(AF_UNIX, TYPE), sendto ADDR
 *   socketpair TYPE                           socketpair(AF_UNIX, TYPE): a byte goes through
 *                                             (TYPE: stream, dgram or seqpacket; ADDR: a
 *                                             path, or @NAME for an abstract socket)
 *   tiocsti                                   push a character into the terminal's input
 *   userns                                    unshare a new user namespace
 *   mount                                     unshare a mount namespace and mount a tmpfs
 *   opath DIR FILE                            O_PATH on DIR, then openat(FILE) for writing
 *   procfd FILE                               O_PATH on FILE, reopen /proc/self/fd/N for writing
 *   loosen                                    stack a Landlock ruleset allowing everything,
 *                                             then write FILE given as the next argument
 *   int80                                     an i386 system call through int 0x80
 *   caps                                      hold any capability (inheritable, permitted,
 *                                             effective or ambient)
 *   fork N                                    start N processes that wait (a fork bomb's
 *                                             spread), all at once; they are killed after
 *   rpc SOCK ENTRY                            read the token in the registry entry ENTRY
 *                                             (a guess when unreadable), then call status
 *                                             on the pod socket SOCK with it
 *   flood SOCK N PROCS STOP                   from PROCS processes, open N connections to
 *                                             SOCK in all and say nothing; print "N held"
 *                                             once they are open, then hold them until the
 *                                             file STOP exists (at most 120 s)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_VSOCK
#        define AF_VSOCK 40
#endif

static int result(int r, const char *what) {
        if (r >= 0) {
                puts("ok");
                return 0;
        }
        printf("denied: %s: %s\n", what, strerror(errno));
        return 1;
}

static int family(const char *name) {
        if (strcmp(name, "inet") == 0)
                return AF_INET;
        if (strcmp(name, "inet6") == 0)
                return AF_INET6;
        if (strcmp(name, "netlink") == 0)
                return AF_NETLINK;
        if (strcmp(name, "vsock") == 0)
                return AF_VSOCK;
        if (strcmp(name, "packet") == 0)
                return AF_PACKET;
        if (strcmp(name, "unix") == 0)
                return AF_UNIX;
        return -1;
}

static int sock_type(const char *name) {
        if (strcmp(name, "stream") == 0)
                return SOCK_STREAM;
        if (strcmp(name, "dgram") == 0)
                return SOCK_DGRAM;
        if (strcmp(name, "seqpacket") == 0)
                return SOCK_SEQPACKET;
        return -1;
}

/* A Unix address: a path, or @NAME for an abstract one. */
static socklen_t unix_addr(struct sockaddr_un *a, const char *addr) {
        size_t n = strlen(addr);

        *a = (struct sockaddr_un){ .sun_family = AF_UNIX };
        if (n >= sizeof(a->sun_path))
                n = sizeof(a->sun_path) - 1;
        memcpy(a->sun_path, addr, n);
        if (addr[0] == '@')
                a->sun_path[0] = '\0';
        return (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + (addr[0] != '@'));
}

/* "ping" sent on fd; a stream or seqpacket one must also bring back a reply. */
static int ping(int fd, int type) {
        char reply[16];

        if (send(fd, "ping", 4, MSG_NOSIGNAL) != 4)
                return result(-1, "send");
        if (type == SOCK_DGRAM)
                return result(0, "");
        errno = ECONNRESET;
        return result(read(fd, reply, sizeof(reply)) > 0 ? 0 : -1, "a reply");
}

/* The Unix socket attempts: unix, pairconnect, pairsendto, socketpair (2: not one). */
static int unix_attempt(const char *what, const char *type_name, const char *addr) {
        struct sockaddr_un a;
        socklen_t len = unix_addr(&a, addr);
        int type = sock_type(type_name), sv[2], fd;
        char c = 0;

        if (type < 0)
                return 2;
        if (strcmp(what, "unix") == 0) {
                fd = socket(AF_UNIX, type, 0);
                if (fd < 0)
                        return result(-1, "socket(AF_UNIX)");
                if (connect(fd, (struct sockaddr *) &a, len) < 0)
                        return result(-1, "connect");
                return ping(fd, type);
        }
        if (socketpair(AF_UNIX, type, 0, sv) < 0)
                return result(-1, "socketpair");
        if (strcmp(what, "pairconnect") == 0) {
                if (connect(sv[0], (struct sockaddr *) &a, len) < 0)
                        return result(-1, "connect");
                return ping(sv[0], type);
        }
        if (strcmp(what, "pairsendto") == 0)
                return result(
                        (int) sendto(sv[0], "ping", 4, MSG_NOSIGNAL, (struct sockaddr *) &a, len),
                        "sendto");
        if (strcmp(what, "socketpair") == 0) {
                bool through = write(sv[0], "x", 1) == 1 && read(sv[1], &c, 1) == 1 && c == 'x';
                errno = EIO;
                return result(through ? 0 : -1, "a byte through the pair");
        }
        return 2;
}

static int dial(const char *path) {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);

        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* One holder: n connections, a byte on report once they are open, then silence until stop
 * exists; the pod may close them, the holder does not mind. */
static void hold(const char *path, int n, int report, const char *stop) {
        int opened = 0;

        prctl(PR_SET_PDEATHSIG, SIGKILL);
        for (int i = 0; i < n; i++)
                opened += dial(path) >= 0;
        (void) !write(report, opened == n ? "y" : "n", 1);
        for (int i = 0; i < 1200 && access(stop, F_OK) < 0; i++)
                usleep(100 * 1000);
        _exit(0);
}

static int flood(const char *path, int n, int procs, const char *stop) {
        int p[2], held = 0;
        pid_t kids[512];

        if (procs < 1 || procs > 512 || n < procs || pipe(p) < 0)
                return result(-1, "flood: bad arguments");
        for (int i = 0; i < procs; i++) {
                kids[i] = fork();
                if (kids[i] == 0)
                        hold(path, n / procs + (i < n % procs), p[1], stop);
        }
        for (int i = 0; i < procs; i++) {
                char c = 'n';
                if (read(p[0], &c, 1) == 1 && c == 'y')
                        held++;
        }
        printf("%d held\n", held == procs ? n : 0);
        fflush(stdout);
        for (int i = 0; i < procs; i++)
                waitpid(kids[i], NULL, 0);
        errno = ECONNREFUSED;
        return result(held == procs ? 0 : -1, "flood: connect");
}

int main(int argc, char **argv) {
        const char *what = argc > 1 ? argv[1] : "";
        const char *arg = argc > 2 ? argv[2] : "";
        int pid = atoi(arg);

        if (strcmp(what, "socket") == 0 && strcmp(arg, "unix-wide") == 0) {
                /* AF_UNIX with a high bit set: the kernel reads an int, a filter 64 bits */
                long fam = (long) ((1UL << 32) | AF_UNIX);
                return result((int) syscall(SYS_socket, fam, SOCK_STREAM, 0), "socket");
        }
        if (strcmp(what, "socket") == 0) {
                int type = strcmp(arg, "packet") == 0 ? SOCK_RAW :
                        strcmp(arg, "netlink") == 0   ? SOCK_RAW :
                                                        SOCK_STREAM;
                return result(socket(family(arg), type, 0), "socket");
        }
        if (strcmp(what, "setsid") == 0) /* a session of its own (a command may not) */
                return result(setsid() < 0 ? -1 : 0, "setsid");
        if (strcmp(what, "io_uring") == 0) {
                char params[120] = { 0 };
                return result((int) syscall(__NR_io_uring_setup, 4, params), "io_uring_setup");
        }
        if (strcmp(what, "ptrace") == 0)
                return result((int) ptrace(PTRACE_SEIZE, pid, 0, 0), "ptrace");
        if (strcmp(what, "vmread") == 0) {
                char buf[8];
                struct iovec local = { buf, sizeof(buf) },
                             remote = { (void *) 0x400000, sizeof(buf) };
                long n = syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0);
                return result(n < 0 && errno == EFAULT ? 0 : (int) n, "process_vm_readv");
        }
        if (strcmp(what, "getfd") == 0) {
                int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
                return result(pfd < 0 ? pfd : (int) syscall(SYS_pidfd_getfd, pfd, 0, 0),
                              "pidfd_getfd");
        }
        if (strcmp(what, "signal") == 0)
                return result(kill(pid, 0), "kill");
        if (strcmp(what, "abstract") == 0) {
                struct sockaddr_un a = { .sun_family = AF_UNIX };
                int fd = socket(AF_UNIX, SOCK_STREAM, 0);
                size_t n = strlen(arg);
                memcpy(a.sun_path + 1, arg, n);
                return result(connect(fd, (struct sockaddr *) &a,
                                      (socklen_t) (offsetof(struct sockaddr_un, sun_path) + 1 + n)),
                              "connect");
        }
        if (strcmp(what, "unix") == 0 || strcmp(what, "pairconnect") == 0 ||
            strcmp(what, "pairsendto") == 0 || strcmp(what, "socketpair") == 0) {
                int r = unix_attempt(what, arg, argc > 3 ? argv[3] : "");
                if (r != 2)
                        return r;
        }
        if (strcmp(what, "tiocsti") == 0) {
                char c = 'x';
                int fd = open("/dev/tty", O_RDWR);
                return result(ioctl(fd < 0 ? 0 : fd, TIOCSTI, &c), "ioctl(TIOCSTI)");
        }
        if (strcmp(what, "userns") == 0)
                return result(unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
        if (strcmp(what, "mount") == 0) {
                if (unshare(CLONE_NEWNS) < 0)
                        return result(-1, "unshare(CLONE_NEWNS)");
                return result(mount("none", "/tmp", "tmpfs", 0, NULL), "mount");
        }
        if (strcmp(what, "opath") == 0 && argc > 3) {
                int dir = open(arg, O_PATH | O_DIRECTORY);
                return result(dir < 0 ? dir : openat(dir, argv[3], O_WRONLY | O_APPEND), "openat");
        }
        if (strcmp(what, "procfd") == 0) {
                char path[64];
                int fd = open(arg, O_PATH);
                if (fd < 0)
                        return result(fd, "open(O_PATH)");
                snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
                return result(open(path, O_WRONLY | O_APPEND), "reopen");
        }
        if (strcmp(what, "loosen") == 0) {
                struct landlock_ruleset_attr attr = { .handled_access_fs =
                                                              LANDLOCK_ACCESS_FS_EXECUTE };
                int rs = (int) syscall(__NR_landlock_create_ruleset, &attr, sizeof(attr), 0);
                prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if (rs >= 0)
                        syscall(__NR_landlock_restrict_self, rs, 0);
                return result(open(arg, O_WRONLY | O_APPEND), "open after stacking");
        }
        if (strcmp(what, "int80") == 0) { /* an i386 system call (getpid) from x86-64 */
#if defined(__x86_64__)
                long ret = 20;
                __asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
                errno = ret < 0 ? (int) -ret : 0;
                return result(ret > 0 ? 0 : -1, "int 0x80");
#else
                errno = ENOSYS;
                return result(-1, "int 0x80 (not x86-64)");
#endif
        }
        if (strcmp(what, "caps") == 0) {
                char line[256];
                FILE *f = fopen("/proc/self/status", "r");
                unsigned long long held = 0;
                int seen = 0;
                while (f && fgets(line, sizeof(line), f))
                        if (strncmp(line, "CapInh:", 7) == 0 || strncmp(line, "CapPrm:", 7) == 0 ||
                            strncmp(line, "CapEff:", 7) == 0 || strncmp(line, "CapAmb:", 7) == 0) {
                                held |= strtoull(line + 7, NULL, 16);
                                seen++;
                        }
                errno = EPERM;
                return result(seen == 4 && held ? 0 : -1,
                              seen == 4 ? "no capability held" : "the capability sets");
        }
        if (strcmp(what, "fork") == 0) {
                int n = atoi(arg), started = 0;
                pid_t kids[4096];
                for (; started < n && started < 4096; started++) {
                        pid_t k = fork();
                        if (k < 0)
                                break;
                        if (k == 0) {
                                pause();
                                _exit(0);
                        }
                        kids[started] = k;
                }
                for (int i = 0; i < started; i++)
                        kill(kids[i], SIGKILL);
                for (int i = 0; i < started; i++)
                        waitpid(kids[i], NULL, 0);
                printf("%d started\n", started);
                errno = EAGAIN;
                return result(started == n ? 0 : -1, "fork");
        }
        if (strcmp(what, "rpc") == 0 && argc > 3) {
                char entry[4096] = "", token[64] = "00000000000000000000000000000000", req[512];
                char reply[4096] = "";
                struct sockaddr_un a = { .sun_family = AF_UNIX };
                FILE *f = fopen(argv[3], "r");
                const char *t;
                size_t got = 0;
                ssize_t k;
                int fd;
                if (f) {
                        entry[fread(entry, 1, sizeof(entry) - 1, f)] = '\0';
                        fclose(f);
                }
                t = strstr(entry, "\"token\":\"");
                if (t)
                        snprintf(token, sizeof(token), "%.32s", t + 9);
                snprintf(a.sun_path, sizeof(a.sun_path), "%s", arg);
                fd = socket(AF_UNIX, SOCK_STREAM, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *) &a, sizeof(a)) < 0)
                        return result(-1, "connect");
                snprintf(
                        req, sizeof(req),
                        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"hello\",\"params\":{\"token\":\"%s\"}}\n"
                        "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"status\"}\n",
                        token);
                if (write(fd, req, strlen(req)) < 0)
                        return result(-1, "write");
                while (got < sizeof(reply) - 1 && !strstr(reply, "\"id\":2") &&
                       (k = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
                        reply[got += (size_t) k] = '\0';
                errno = EACCES;
                return result(strstr(reply, "\"id\":2") && strstr(reply, "\"result\"") ? 0 : -1,
                              "status with the token found");
        }
        if (strcmp(what, "flood") == 0 && argc > 5)
                return flood(arg, atoi(argv[3]), atoi(argv[4]), argv[5]);
        fprintf(stderr, "sandbox-probe: unknown attempt '%s'\n", what);
        return 2;
}
