/*
 * keywords.c: the file "keywords", one keyword name a line, line i
 * naming bit i of a record's keywords.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "storeint.h"


void
kw_free(struct kwlist *kl)
{
	free(kl->buf);
	memset(kl, 0, sizeof *kl);
}

/* Load the names; a last line without its newline (torn) is ignored. */
int
kw_load(int fd, struct kwlist *kl)
{
	struct stat	 sb;
	char		*p, *nl, *end;

	kw_free(kl);
	if (fstat(fd, &sb) == -1)
		return -1;
	if (sb.st_size > (off_t)KEYWORDS_MAX * (KEYWORD_LEN_MAX + 2)) {
		errno = EFBIG;
		return -1;
	}
	kl->seen = sb.st_size;
	if ((kl->buf = malloc((size_t)sb.st_size + 1)) == NULL)
		return -1;
	if (st_pread_all(fd, kl->buf, (size_t)sb.st_size, 0) == -1) {
		kw_free(kl);
		return -1;
	}
	kl->seen = sb.st_size;
	end = kl->buf + sb.st_size;
	for (p = kl->buf; p < end && kl->n < KEYWORDS_MAX; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			break;
		*nl = '\0';
		kl->name[kl->n++] = p;
		kl->size = nl + 1 - kl->buf;
	}
	return 0;
}

int
kw_find(const struct kwlist *kl, const char *name)
{
	size_t	 i;

	/* Keywords compare without regard to case, like flags. */
	for (i = 0; i < kl->n; i++)
		if (strcasecmp(kl->name[i], name) == 0)
			return (int)i;
	return -1;
}

/*
 * Add a name (the caller holds the index write lock) and return its bit.
 * The file must be durable before any record uses the bit.
 */
int
kw_add(int fd, struct kwlist *kl, const char *name)
{
	size_t	 len = strlen(name);
	char	*line;
	int	 r;

	if ((r = kw_find(kl, name)) != -1)
		return r;
	if (len == 0 || len > KEYWORD_LEN_MAX || strchr(name, '\n') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (kl->n >= KEYWORDS_MAX) {
		errno = ENOSPC;
		return -1;
	}
	if ((line = malloc(len + 1)) == NULL)
		return -1;
	memcpy(line, name, len);
	line[len] = '\n';
	r = -1;
	if (kl->seen != kl->size && ftruncate(fd, kl->size) == -1)
		goto out;
	if (st_pwrite_all(fd, line, len + 1, kl->size) == -1 ||
	    fdatasync(fd) == -1)
		goto out;
	if (kw_load(fd, kl) == -1)
		goto out;
	r = kw_find(kl, name);
	if (r == -1)
		errno = EIO;
out:
	free(line);
	return r;
}

/* Under the write lock: reload the names (others may have added some). */
int
kw_open_load(int dirfd, struct kwlist *kl, int *fd_r)
{
	*fd_r = openat(dirfd, "keywords", O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (*fd_r == -1)
		return -1;
	if (kw_load(*fd_r, kl) == -1) {
		st_closefd(fd_r);
		return -1;
	}
	return 0;
}
