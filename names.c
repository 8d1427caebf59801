/*
 * names.c: mailbox names: which the store accepts, their encoding as
 * directory names and back, the mailbox directories under DIR/box and
 * the sorted list of them.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"
#include "utf7.h"


/*
 * A name (UTF-8) is stored as one directory name: its bytes of UTF-8
 * sequences and of [A-Za-z0-9_+,-] as they are, every other byte as %XX,
 * '/', '.' and '&' included, so no name can contain a path separator or
 * start with a dot (internal entries). The old store wrote '&' as itself
 * and names in modified UTF-7: a '&' in a directory name marks one of
 * those (name_dec_old).
 */
static int
enc_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '+' || c == ',' ||
	    c == '-' || c >= 0x80;
}

/* Mailbox names the store accepts: UTF-8, no controls, no empty levels. */
int
name_ok(const char *name)
{
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 i;

	if (s[0] == '\0' || s[0] == '/' || !utf8_valid(name, strlen(name)))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
		if (s[i] == '/' && (s[i + 1] == '/' || s[i + 1] == '\0'))
			return 0;
		if (i >= NAME_LEN_MAX)
			return 0;
	}
	return 1;
}

int
name_enc(const char *name, char *buf, size_t cap)
{
	static const char	 hex[] = "0123456789ABCDEF";
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 o = 0;

	if (!name_ok(name)) {
		errno = EINVAL;
		return -1;
	}
	for (; *s != '\0'; s++) {
		if (enc_safe(*s)) {
			if (cap - o < 2)
				goto toolong;
			buf[o++] = (char)*s;
		} else {
			if (cap - o < 4)
				goto toolong;
			buf[o++] = '%';
			buf[o++] = hex[*s >> 4];
			buf[o++] = hex[*s & 15];
		}
	}
	if (o > ENC_MAX)
		goto toolong;
	buf[o] = '\0';
	return 0;
toolong:
	errno = ENAMETOOLONG;
	return -1;
}

/*
 * The bytes of a directory name, %XX decoded: old, the old store's
 * encoding ('&' as itself, every %XX taken), else today's, where a %XX
 * of a byte written as itself is not name_enc's and so no mailbox.
 */
static char *
unescape(const char *enc, int old)
{
	char	*out, *o;
	int	 a, b;

	if (enc[0] == '.' || enc[0] == '\0')
		return NULL;
	if ((out = malloc(strlen(enc) + 1)) == NULL)
		return NULL;
	for (o = out; *enc != '\0'; enc++) {
		if (*enc != '%') {
			if (!enc_safe((unsigned char)*enc) &&
			    !(old && *enc == '&'))
				goto bad;
			*o++ = *enc;
			continue;
		}
		if ((a = buf_hexval((unsigned char)enc[1])) == -1 ||
		    (b = buf_hexval((unsigned char)enc[2])) == -1 ||
		    (a == 0 && b == 0) ||
		    (!old && enc_safe((unsigned char)(a * 16 + b))))
			goto bad;
		*o++ = (char)(a * 16 + b);
		enc += 2;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Returns a new string, or NULL for an entry that is not a mailbox. */
char *
name_dec(const char *enc)
{
	char	*out = unescape(enc, 0);

	if (out != NULL && !name_ok(out)) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The name an old store's directory held (see imapd-store(5)): modified
 * UTF-7 as a client sent it, decoded; one that is no valid modified
 * UTF-7 (the old code checked less) keeps its bytes, '&' as itself, so
 * it stays reachable under a name that round-trips.
 */
char *
name_dec_old(const char *enc)
{
	char	*raw, *out;

	if ((raw = unescape(enc, 1)) == NULL)
		return NULL;
	out = name_old(raw);
	free(raw);
	return out;
}

/* An old store's name (as in name_dec_old), not encoded: a new string. */
char *
name_old(const char *raw)
{
	char	*out;

	if (utf7_to_utf8(raw, &out) == -1) {
		if (errno != EINVAL || (out = strdup(raw)) == NULL)
			return NULL;
	}
	if (!name_ok(out)) {
		free(out);
		errno = EINVAL;
		return NULL;
	}
	return out;
}

int
name_exists(struct store *st, const char *enc)
{
	struct stat	 sb;

	return fstatat(st->boxfd, enc, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(sb.st_mode);
}

int
name_opendir(struct store *st, const char *name)
{
	char	 enc[ENC_MAX + 4];

	if (name_enc(name, enc, sizeof enc) == -1)
		return -1;
	return openat(st->boxfd, enc, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
}

/* Remove a mailbox directory (flat: files only). */
int
name_rmtree(int parent, const char *name)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, de->d_name, 0) == -1 && errno != ENOENT) {
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	return unlinkat(parent, name, AT_REMOVEDIR);
}

void
name_list_free(char **v, size_t n)
{
	size_t	 i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
store_names_free(char **v, size_t n)
{
	name_list_free(v, n);
}

int
name_list_push(char ***v, size_t *n, size_t *cap, char *s)
{
	char	**nv;

	if ((nv = buf_grow(*v, cap, *n, sizeof *nv)) == NULL)
		return -1;
	*v = nv;
	(*v)[(*n)++] = s;
	return 0;
}

int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory of mailboxes, open for reading its entries. */
DIR *
name_boxdir(struct store *st)
{
	DIR	*d;
	int	 fd;

	if ((fd = openat(st->boxfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		st_closefd(&fd);
	return d;
}

int
name_list(struct store *st, char ***names_r, size_t *n_r)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, *s;
	size_t		 n = 0, cap = 0;

	if ((d = name_boxdir(st)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ".", "..", .new.*, .del.* */
		if ((s = name_dec(de->d_name)) == NULL) {
			if (errno == ENOMEM)
				goto fail;
			continue;
		}
		if (name_list_push(&v, &n, &cap, s) == -1) {
			free(s);
			goto fail;
		}
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof *v, name_cmp);
	*names_r = v;
	*n_r = n;
	return 0;
fail:
	closedir(d);
	name_list_free(v, n);
	return -1;
}

/*
 * An old store's mailboxes (a '&' in the directory name: see name_dec)
 * renamed to the encoding of their UTF-8 names. Each rename is done
 * only where the target is not there, so an upgrade cut short is
 * finished by the next. The caller holds the namespace lock.
 */
int
name_upgrade_dirs(struct store *st)
{
	DIR		*d;
	struct dirent	*de;
	char		**v = NULL, *s = NULL, *name, enc[ENC_MAX + 4];
	size_t		 n = 0, cap = 0, i;
	int		 r = -1, done;

	if ((d = name_boxdir(st)) == NULL)
		return -1;
	/* Gathered first: readdir need not see a directory renamed under it. */
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && strchr(de->d_name, '&') != NULL &&
		    ((s = strdup(de->d_name)) == NULL ||
		    name_list_push(&v, &n, &cap, s) == -1)) {
			free(s);
			goto out;
		}
	for (i = 0; i < n; i++) {
		errno = 0;
		if ((name = name_dec_old(v[i])) == NULL) {
			if (errno == ENOMEM)
				goto out;
			continue;	/* no mailbox: left as it is */
		}
		/* A name too long for today's encoding stays where it is. */
		done = name_enc(name, enc, sizeof enc) == -1 ||
		    name_exists(st, enc) ||
		    renameat(st->boxfd, v[i], st->boxfd, enc) == 0;
		free(name);
		if (!done)
			goto out;
	}
	r = fsync(st->boxfd);
out:
	closedir(d);
	name_list_free(v, n);
	return r;
}
