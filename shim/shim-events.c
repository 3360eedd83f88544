/* The shim's writer of the events journal: see events.h. */
#define _GNU_SOURCE
#include "shim-events.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES PIPE_BUF
#define MAX_ATTRS 64

struct line {
	char buf[LINE_MAX_BYTES];
	size_t len;
	bool overflow;
};

static void put_raw(struct line *l, const char *s)
{
	size_t n = strlen(s);
	if (l->overflow || l->len + n >= sizeof l->buf) {
		l->overflow = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* A JSON string: quotes, backslashes and control characters escaped. */
static void put_str(struct line *l, const char *s)
{
	char esc[8];
	put_raw(l, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			esc[2] = '\0';
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
		} else {
			esc[0] = (char)*p;
			esc[1] = '\0';
		}
		put_raw(l, esc);
	}
	put_raw(l, "\"");
}

static const char *attr_value(const char *const *attrs, const char *key)
{
	for (int i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
		if (strcmp(attrs[i], key) == 0)
			return attrs[i + 1];
	return NULL;
}

int events_append(const char *path, const char *type, const char *action, const char *id, const char *const *attrs)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
		return -1;
	static struct line l;
	char num[160];
	const char *from = attr_value(attrs, "image");

	memset(&l, 0, sizeof l);
	put_raw(&l, "{\"status\":");
	put_str(&l, action);
	put_raw(&l, ",\"id\":");
	put_str(&l, id);
	if (from) {
		put_raw(&l, ",\"from\":");
		put_str(&l, from);
	}
	put_raw(&l, ",\"Type\":");
	put_str(&l, type);
	put_raw(&l, ",\"Action\":");
	put_str(&l, action);
	put_raw(&l, ",\"Actor\":{\"ID\":");
	put_str(&l, id);
	put_raw(&l, ",\"Attributes\":{");
	/* the tail, measured first: attributes are added only while they leave room for it */
	snprintf(num, sizeof num, "}},\"scope\":\"local\",\"time\":%lld,\"timeNano\":%lld", (long long)ts.tv_sec,
		 (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	size_t tail = strlen(num) + 2; /* "}\n" */
	if (l.overflow) {
		errno = ENAMETOOLONG;
		return -1;
	}
	bool first = true;
	for (int i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2) {
		struct line save = l;
		if (!first)
			put_raw(&l, ",");
		put_str(&l, attrs[i]);
		put_raw(&l, ":");
		put_str(&l, attrs[i + 1]);
		if (l.overflow || l.len + tail >= sizeof l.buf) {
			l = save; /* left out: the line must stay one atomic write */
			continue;
		}
		first = false;
	}
	put_raw(&l, num);
	put_raw(&l, "}\n");
	if (l.overflow) {
		errno = ENAMETOOLONG;
		return -1;
	}

	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, l.buf, l.len);
	int saved = errno;
	if (close(fd) < 0 && n >= 0)
		return -1;
	if (n < 0) {
		errno = saved;
		return -1;
	}
	if ((size_t)n != l.len) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* One event of the container with `first` (a key, value pair or NULL) and then `kv_attrs` (K=V). */
static int append_kv(const char *path, const char *action, const char *id, const char *first_key,
		     const char *first_value, const char *const *kv_attrs)
{
	static char pairs[MAX_ATTRS][2][PIPE_BUF];
	const char *attrs[2 * (MAX_ATTRS + 1) + 1];
	int n = 0;

	if (first_key) {
		attrs[n++] = first_key;
		attrs[n++] = first_value;
	}
	for (int i = 0; kv_attrs && kv_attrs[i] && i < MAX_ATTRS; i++) {
		const char *eq = strchr(kv_attrs[i], '=');
		if (!eq || (size_t)(eq - kv_attrs[i]) >= PIPE_BUF || strlen(eq + 1) >= PIPE_BUF)
			continue;
		memcpy(pairs[i][0], kv_attrs[i], (size_t)(eq - kv_attrs[i]));
		pairs[i][0][eq - kv_attrs[i]] = '\0';
		strcpy(pairs[i][1], eq + 1);
		attrs[n++] = pairs[i][0];
		attrs[n++] = pairs[i][1];
	}
	attrs[n] = NULL;
	return events_append(path, "container", action, id, attrs);
}

int events_append_die(const char *path, const char *id, int exit_code, const char *const *kv_attrs)
{
	char code[16];
	snprintf(code, sizeof code, "%d", exit_code);
	return append_kv(path, "die", id, "exitCode", code, kv_attrs);
}

int events_append_start(const char *path, const char *id, const char *const *kv_attrs)
{
	return append_kv(path, "start", id, NULL, NULL, kv_attrs);
}

int events_append_health(const char *path, const char *id, const char *status, const char *const *kv_attrs)
{
	char action[64];
	snprintf(action, sizeof action, "health_status: %s", status);
	return append_kv(path, action, id, NULL, NULL, kv_attrs);
}
