/*
 * ctr-ts-overlay: the kernel overlayfs rootfs driver's two jobs, run inside the container's user
 * namespace (as its root), where Linux 5.11+ lets an unprivileged user mount overlayfs with
 * `userxattr` and (5.8+) create the 0/0 character devices it takes as whiteouts.
 *
 *   ctr-ts-overlay prepare LAYER DEST [LAYER DEST]...
 *   ctr-ts-overlay mount [--lower DIR]... [--upper DIR --work DIR] MERGED
 *
 * prepare: the layer store keeps OCI whiteouts as files (`.wh.NAME`, `.wh..wh..opq`), which the
 * kernel does not read. Rather than a second copy of the layer, two thin layers are made in DEST
 * (an empty directory) that, stacked around the untouched LAYER, give the kernel the same view:
 *
 *   DEST/above  above LAYER: a 0/0 device for every whiteout's target NAME (LAYER itself never
 *               holds NAME: the unpacker drops `.wh.NAME` when the layer has NAME) and one for
 *               every `.wh.*` marker file, which hides the marker itself. Its directories are
 *               the marker's parents, with LAYER's owner, mode, user.* xattrs and times (the
 *               topmost layer holding a directory gives the merged directory its attributes).
 *   DEST/below  below LAYER: each opaque directory, marked `user.overlay.opaque=y`, so it hides
 *               the lower layers' content but not LAYER's own.
 *
 * Either is missing when not needed: a layer without markers gets an empty DEST.
 *
 * mount: `mount -t overlay -o lowerdir=...,upperdir=...,workdir=...,userxattr MERGED` through
 * fsopen()/fsconfig() (lowers one by one with `lowerdir+`: no page-size limit on the option
 * string), read-only without --upper (one lower alone: a read-only bind mount, as overlayfs
 * wants two). The kernel's own reason is printed when it refuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common.h"

#define WH ".wh."
#define OPQ ".wh..wh..opq"
#define META ".wh..wh."
#define MAX_LOWERS 500 /* overlayfs's own limit */

_Noreturn void die_exit(const char *msg)
{
	(void)msg;
	exit(1);
}

static const char *src_root, *dest_root;
static size_t src_len;

/* Directories made under DEST/above: their times are copied last (making children changes them). */
static char **made;
static size_t n_made, cap_made;

static void join(char *out, const char *a, const char *b, const char *c)
{
	int n = snprintf(out, PATH_MAX, "%s%s%s%s%s", a, *b ? "/" : "", b, *c ? "/" : "", c);
	if (n < 0 || n >= PATH_MAX)
		die("path too long: %s/%s/%s", a, b, c);
}

static void copy_xattrs(const char *from, const char *to)
{
	char names[65536];
	ssize_t len = llistxattr(from, names, sizeof names);
	if (len < 0) {
		if (errno == ENOTSUP)
			return;
		die("listxattr %s: %s", from, strerror(errno));
	}
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		if (strncmp(n, "user.", 5) != 0)
			continue;
		char value[65536];
		ssize_t v = lgetxattr(from, n, value, sizeof value);
		if (v < 0)
			die("getxattr %s %s: %s", from, n, strerror(errno));
		if (lsetxattr(to, n, value, (size_t)v, 0) < 0)
			die("setxattr %s %s: %s", to, n, strerror(errno));
	}
}

/* DEST/above/REL gets LAYER/REL's owner, mode and user.* xattrs (times at the end). */
static void copy_meta(const char *rel, const char *dest)
{
	char src[PATH_MAX];
	struct stat st;
	join(src, src_root, rel, "");
	if (lstat(src, &st) < 0)
		die("stat %s: %s", src, strerror(errno));
	if (lchown(dest, st.st_uid, st.st_gid) < 0)
		die("chown %s: %s", dest, strerror(errno));
	if (chmod(dest, st.st_mode & 07777) < 0)
		die("chmod %s: %s", dest, strerror(errno));
	copy_xattrs(src, dest);
	if (n_made == cap_made) {
		cap_made = cap_made ? cap_made * 2 : 64;
		made = realloc(made, cap_made * sizeof *made);
		if (made == NULL)
			die("out of memory");
	}
	made[n_made] = strdup(rel);
	if (made[n_made] == NULL)
		die("out of memory");
	n_made++;
}

/* Makes DEST/PART/REL and its parents; with `meta` (above) each new one copies LAYER's attributes. */
static void ensure_dir(const char *part, const char *rel, int meta)
{
	char top[PATH_MAX], path[PATH_MAX], sub[PATH_MAX];
	join(top, dest_root, part, "");
	if (mkdir(top, 0755) == 0) {
		if (meta)
			copy_meta("", top);
	} else if (errno != EEXIST) {
		die("mkdir %s: %s", top, strerror(errno));
	}
	size_t len = strlen(rel);
	if (len >= PATH_MAX)
		die("path too long: %s", rel);
	for (size_t i = 0; i <= len; i++) {
		if (rel[i] != '/' && rel[i] != '\0')
			continue;
		if (i == 0)
			continue;
		memcpy(sub, rel, i);
		sub[i] = '\0';
		join(path, top, sub, "");
		if (mkdir(path, 0755) == 0) {
			if (meta)
				copy_meta(sub, path);
		} else if (errno != EEXIST) {
			die("mkdir %s: %s", path, strerror(errno));
		}
	}
}

static void whiteout(const char *dir_rel, const char *name)
{
	char path[PATH_MAX];
	ensure_dir("above", dir_rel, 1);
	join(path, dest_root, "above", dir_rel);
	if (strlen(path) + 1 + strlen(name) >= PATH_MAX)
		die("path too long: %s/%s", path, name);
	strcat(path, "/");
	strcat(path, name);
	if (mknod(path, S_IFCHR | 0000, makedev(0, 0)) < 0 && errno != EEXIST)
		die("mknod %s: %s", path, strerror(errno));
}

static int visit(const char *fpath, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	const char *name = fpath + ftw->base;
	if (strncmp(name, WH, strlen(WH)) != 0 || ftw->level == 0)
		return 0;
	/* the marker's directory, relative to the layer ("" for its root) */
	char dir_rel[PATH_MAX];
	size_t start = src_len + 1, end = (size_t)ftw->base;
	size_t n = end > start ? end - start - 1 : 0;
	memcpy(dir_rel, fpath + start, n);
	dir_rel[n] = '\0';
	whiteout(dir_rel, name); /* hide the marker file itself */
	if (strcmp(name, OPQ) == 0) {
		char path[PATH_MAX];
		ensure_dir("below", dir_rel, 0);
		join(path, dest_root, "below", dir_rel);
		if (lsetxattr(path, "user.overlay.opaque", "y", 1, 0) < 0)
			die("setxattr %s user.overlay.opaque: %s", path, strerror(errno));
	} else if (strncmp(name, META, strlen(META)) != 0) {
		whiteout(dir_rel, name + strlen(WH)); /* `.wh.NAME` deletes NAME */
	}
	return 0;
}

static void prepare(const char *layer, const char *dest)
{
	for (size_t i = 0; i < n_made; i++)
		free(made[i]);
	n_made = 0;
	src_root = layer;
	src_len = strlen(layer);
	dest_root = dest;
	if (nftw(layer, visit, 64, FTW_PHYS) < 0)
		die("walk %s: %s", layer, strerror(errno));
	for (size_t i = 0; i < n_made; i++) {
		char src[PATH_MAX], dst[PATH_MAX];
		struct stat st;
		join(src, src_root, made[i], "");
		join(dst, dest_root, "above", made[i]);
		if (lstat(src, &st) < 0)
			die("stat %s: %s", src, strerror(errno));
		struct timespec times[2] = {st.st_atim, st.st_mtim};
		if (utimensat(AT_FDCWD, dst, times, AT_SYMLINK_NOFOLLOW) < 0)
			die("utimensat %s: %s", dst, strerror(errno));
	}
}

/* The kernel's reasons for a refused mount (lines "e overlayfs: ..."), printed before dying. */
static _Noreturn void refused(int fsfd, const char *what)
{
	int saved = errno;
	char buf[1024], why[1024] = "";
	ssize_t n;
	while ((n = read(fsfd, buf, sizeof buf - 1)) > 0) {
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\n')
			buf[n - 1] = '\0';
		snprintf(why, sizeof why, "%s", buf[0] && buf[1] == ' ' ? buf + 2 : buf);
	}
	die("kernel overlayfs refused %s: %s%s%s", what, strerror(saved), why[0] ? ": " : "", why);
}

static void set_string(int fsfd, const char *key, const char *value)
{
	if (fsconfig(fsfd, FSCONFIG_SET_STRING, key, value, 0) < 0)
		refused(fsfd, key);
}

static int mount_overlay(int argc, char **argv)
{
	const char *lowers[MAX_LOWERS], *upper = NULL, *work = NULL, *merged = NULL;
	int n = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--lower") == 0 && i + 1 < argc) {
			if (n == MAX_LOWERS)
				die("more than %d layers", MAX_LOWERS);
			lowers[n++] = argv[++i];
		} else if (strcmp(argv[i], "--upper") == 0 && i + 1 < argc) {
			upper = argv[++i];
		} else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
			work = argv[++i];
		} else if (merged == NULL && argv[i][0] != '-') {
			merged = argv[i];
		} else {
			die("bad argument '%s'", argv[i]);
		}
	}
	if (merged == NULL || n == 0 || (upper == NULL) != (work == NULL))
		die("usage: ctr-ts-overlay mount --lower DIR... [--upper DIR --work DIR] MERGED");
	if (upper == NULL && n == 1) {
		/* overlayfs wants two lowers without an upper: one layer alone is a read-only bind mount */
		int tree = open_tree(AT_FDCWD, lowers[0], OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
		if (tree < 0)
			die("open_tree %s: %s", lowers[0], strerror(errno));
		struct mount_attr attr = {.attr_set = MOUNT_ATTR_RDONLY};
		if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) < 0)
			die("mount_setattr %s: %s", lowers[0], strerror(errno));
		if (move_mount(tree, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
			die("move_mount %s: %s", merged, strerror(errno));
		if (close(tree) < 0)
			die("close: %s", strerror(errno));
		return 0;
	}
	int fsfd = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fsfd < 0)
		die("kernel overlayfs is not available to this user (fsopen: %s)", strerror(errno));
	for (int i = 0; i < n; i++)
		set_string(fsfd, "lowerdir+", lowers[i]);
	if (upper != NULL) {
		set_string(fsfd, "upperdir", upper);
		set_string(fsfd, "workdir", work);
	}
	if (fsconfig(fsfd, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0)
		refused(fsfd, "userxattr");
	if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
		refused(fsfd, "the mount");
	int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, upper == NULL ? MOUNT_ATTR_RDONLY : 0);
	if (mfd < 0)
		refused(fsfd, "the mount");
	if (move_mount(mfd, "", AT_FDCWD, merged, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		die("move_mount %s: %s", merged, strerror(errno));
	if (close(mfd) < 0 || close(fsfd) < 0)
		die("close: %s", strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && argc % 2 == 0 && strcmp(argv[1], "prepare") == 0) {
		for (int i = 2; i < argc; i += 2)
			prepare(argv[i], argv[i + 1]);
		return 0;
	}
	if (argc >= 2 && strcmp(argv[1], "mount") == 0)
		return mount_overlay(argc - 2, argv + 2);
	die("usage: ctr-ts-overlay prepare LAYER DEST... | mount [--lower DIR]... [--upper DIR --work DIR] MERGED");
}
