/*
 * names.c: mailbox names: which the store accepts, their encoding as
 * directory names and back, the mailbox directories under DIR/box and
 * the sorted list of them.
 */

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storeint.h"


/*
 * A name is stored as one directory name: every byte outside
 * [A-Za-z0-9_+,&-] becomes %XX, '/' and '.' included, so no name can
 * contain a path separator or start with a dot (internal entries).
 */
static int
enc_safe(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '+' || c == ',' ||
	    c == '&' || c == '-';
}

/* Mailbox names the store accepts: printable ASCII, no empty levels. */
int
name_ok(const char *name)
{
	const unsigned char	*s = (const unsigned char *)name;
	size_t			 i;

	if (s[0] == '\0' || s[0] == '/')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f)
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

/* Returns a new string, or NULL for an entry that is not a mailbox. */
char *
name_dec(const char *enc)
{
	char	*out, *o;
	int	 a, b;

	if (enc[0] == '.' || enc[0] == '\0')
		return NULL;
	if ((out = malloc(strlen(enc) + 1)) == NULL)
		return NULL;
	for (o = out; *enc != '\0'; enc++) {
		if (*enc != '%') {
			if (!enc_safe((unsigned char)*enc))
				goto bad;
			*o++ = *enc;
			continue;
		}
		if ((a = buf_hexval((unsigned char)enc[1])) == -1 ||
		    (b = buf_hexval((unsigned char)enc[2])) == -1 ||
		    (a == 0 && b == 0))
			goto bad;
		*o++ = (char)(a * 16 + b);
		enc += 2;
	}
	*o = '\0';
	if (!name_ok(out))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
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
