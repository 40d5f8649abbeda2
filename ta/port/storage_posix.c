#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/log.h"
#include "port/rng.h"
#include "port/storage.h"

/* Prefix of files being written; a file with it after a crash was never committed. */
#define TMP_PREFIX ".tmp."

struct port_store {
	int dfd;
};

static int name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > PORT_STORE_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-' || ch == '.'))
			return 0;
	}
	return 1;
}

static int write_all(int fd, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int read_all(int fd, void *data, size_t len)
{
	uint8_t *p = data;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			return -1; /* shorter than fstat said: changed under us */
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int port_store_open(const char *dir, struct port_store **out)
{
	struct port_store *ps = NULL;
	struct stat st;
	int dfd = -1;

	*out = NULL;
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		log_error("store: cannot create %s: %s", dir, strerror(errno));
		goto fail;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		log_error("store: cannot open %s: %s", dir, strerror(errno));
		goto fail;
	}
	if (fstat(dfd, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("store: %s is not a directory", dir);
		goto fail;
	}
	if (st.st_mode & 0077)
		log_warn("store: %s is accessible to group or others (mode %03o)", dir,
			 (unsigned)(st.st_mode & 0777));
	if (flock(dfd, LOCK_EX | LOCK_NB) != 0) {
		log_error("store: %s is in use by another process", dir);
		goto fail;
	}
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		goto fail;
	ps->dfd = dfd;
	*out = ps;
	return PORT_STORE_OK;
fail:
	if (dfd >= 0)
		close(dfd);
	return PORT_STORE_ERR;
}

void port_store_close(struct port_store *ps)
{
	if (!ps)
		return;
	close(ps->dfd); /* releases the flock */
	free(ps);
}

int port_store_read(struct port_store *ps, const char *name, size_t max_len, struct buf **out)
{
	struct buf *b = NULL;
	struct stat st;
	int fd = -1;
	int ret = PORT_STORE_ERR;

	*out = NULL;
	if (!name_ok(name))
		return PORT_STORE_ERR;
	fd = openat(ps->dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return PORT_STORE_NOENT;
		log_error("store: cannot open %s: %s", name, strerror(errno));
		return PORT_STORE_ERR;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("store: %s is not a regular file", name);
		goto out;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max_len) {
		log_error("store: %s is too large (%lld bytes)", name, (long long)st.st_size);
		goto out;
	}
	b = buf_new(NULL, (size_t)st.st_size);
	if (!b)
		goto out;
	if (read_all(fd, b->data, b->len) != 0) {
		log_error("store: cannot read %s", name);
		goto out;
	}
	*out = b;
	b = NULL; /* the caller owns it */
	ret = PORT_STORE_OK;
out:
	buf_free(b);
	close(fd);
	return ret;
}

int port_store_write(struct port_store *ps, const char *name, const void *data, size_t len)
{
	char tmp[sizeof(TMP_PREFIX) + PORT_STORE_NAME_MAX];
	int fd = -1;
	int ret = PORT_STORE_ERR;

	if (!name_ok(name))
		return PORT_STORE_ERR;
	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%s", name);
	fd = openat(ps->dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_error("store: cannot create %s: %s", tmp, strerror(errno));
		return PORT_STORE_ERR;
	}
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		log_error("store: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		log_error("store: cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (renameat(ps->dfd, tmp, ps->dfd, name) != 0) {
		log_error("store: cannot rename %s: %s", tmp, strerror(errno));
		goto out;
	}
	/* The rename is durable only once the directory is. */
	if (fsync(ps->dfd) != 0) {
		log_error("store: cannot sync directory after writing %s: %s", name,
			  strerror(errno));
		return PORT_STORE_ERR;
	}
	ret = PORT_STORE_OK;
out:
	if (fd >= 0)
		close(fd);
	if (ret != PORT_STORE_OK)
		unlinkat(ps->dfd, tmp, 0);
	return ret;
}

int port_store_remove(struct port_store *ps, const char *name)
{
	if (!name_ok(name))
		return PORT_STORE_ERR;
	if (unlinkat(ps->dfd, name, 0) != 0) {
		if (errno == ENOENT)
			return PORT_STORE_NOENT;
		log_error("store: cannot remove %s: %s", name, strerror(errno));
		return PORT_STORE_ERR;
	}
	if (fsync(ps->dfd) != 0) {
		log_error("store: cannot sync directory after removing %s: %s", name,
			  strerror(errno));
		return PORT_STORE_ERR;
	}
	return PORT_STORE_OK;
}

int port_store_rename(struct port_store *ps, const char *from, const char *to)
{
	if (!name_ok(from) || !name_ok(to))
		return PORT_STORE_ERR;
	if (renameat(ps->dfd, from, ps->dfd, to) != 0) {
		if (errno == ENOENT)
			return PORT_STORE_NOENT;
		log_error("store: cannot rename %s to %s: %s", from, to, strerror(errno));
		return PORT_STORE_ERR;
	}
	return PORT_STORE_OK;
}

int port_store_sync(struct port_store *ps)
{
	if (fsync(ps->dfd) != 0) {
		log_error("store: cannot sync the store directory: %s", strerror(errno));
		return PORT_STORE_ERR;
	}
	return PORT_STORE_OK;
}

int port_store_list(struct port_store *ps, int (*cb)(const char *name, void *arg), void *arg)
{
	struct dirent *de = NULL;
	DIR *d = NULL;
	int dfd = -1;
	int ret = PORT_STORE_OK;
	int cleaned = 0;

	dfd = openat(ps->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return PORT_STORE_ERR;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return PORT_STORE_ERR;
	}
	for (;;) {
		/* readdir reports errors only through errno, which anything else may set. */
		errno = 0;
		de = readdir(d);
		if (!de)
			break;
		if (strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX)) == 0) {
			/* An interrupted write: the committed file (if any) is intact. */
			log_info("store: removing interrupted write %s", de->d_name);
			if (unlinkat(ps->dfd, de->d_name, 0) == 0)
				cleaned = 1;
			continue;
		}
		if (!name_ok(de->d_name))
			continue;
		ret = cb(de->d_name, arg);
		if (ret != 0)
			break;
	}
	if (ret == 0 && errno != 0)
		ret = PORT_STORE_ERR;
	closedir(d);
	if (cleaned)
		fsync(ps->dfd);
	return ret;
}

/* Split path into its directory (new string) and its last component (pointer into path). */
static char *path_dir(const char *path, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (!slash) {
		*base = path;
		return strdup(".");
	}
	*base = slash + 1;
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int root_key_create(const char *path, uint8_t *key, size_t len)
{
	char *dir = NULL;
	char *tmp = NULL;
	const char *base = NULL;
	int dfd = -1;
	int fd = -1;
	int ret = -1;

	dir = path_dir(path, &base);
	if (!dir || !*base)
		goto out;
	if (asprintf(&tmp, TMP_PREFIX "%s", base) < 0) {
		tmp = NULL;
		goto out;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		goto out;
	if (port_rng_bytes(key, len) != 0)
		goto out;
	unlinkat(dfd, tmp, 0);
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (write_all(fd, key, len) != 0 || fsync(fd) != 0)
		goto out;
	/* linkat fails if another process created the key meanwhile: never replace a key. */
	if (linkat(dfd, tmp, dfd, base, 0) != 0)
		goto out;
	if (fsync(dfd) != 0)
		goto out;
	log_info("store: created root key %s", path);
	ret = 0;
out:
	if (ret)
		log_error("store: cannot create root key %s: %s", path, strerror(errno));
	if (fd >= 0) {
		close(fd);
		unlinkat(dfd, tmp, 0);
	}
	if (dfd >= 0)
		close(dfd);
	free(tmp);
	free(dir);
	return ret;
}

int port_root_key_load(const char *path, uint8_t *key, size_t len)
{
	struct stat st;
	int fd = -1;
	int ret = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (root_key_create(path, key, len) != 0)
			goto out;
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0) {
		log_error("store: cannot open root key %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		log_error("store: root key %s is not a regular file", path);
		goto out;
	}
	if (st.st_uid != geteuid() || (st.st_mode & 0077)) {
		log_error("store: root key %s must be owned by us and mode 0600", path);
		goto out;
	}
	if (st.st_size != (off_t)len) {
		log_error("store: root key %s has the wrong size", path);
		goto out;
	}
	if (read_all(fd, key, len) != 0) {
		log_error("store: cannot read root key %s", path);
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		wipe(key, len);
	return ret;
}
