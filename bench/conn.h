/*
 * conn: the bench drivers' side of an IMAP server run as a child on a
 * pair of pipes: starting it, sending commands, reading its lines.
 */
#include <sys/types.h>
#include <sys/resource.h>

#include <stddef.h>

/* One server process and what has been read from it. */
struct conn_io {
	pid_t		 pid;
	int		 to;		/* server's stdin */
	int		 from;		/* server's stdout */
	char		*buf;		/* mmap()ed: see conn_map */
	size_t		 cap, start, end;
	unsigned	 tag;		/* of the last command sent */
};

/* Each driver defines its name, which starts every message. */
extern const char conn_prog[];

void	 conn_die(const char *, ...)
	    __attribute__((noreturn, format(printf, 1, 2)));
double	 conn_now(void);
void	*conn_map(size_t);
void	 conn_unmap(void *, size_t);
char	**conn_server(char **, int, int *);
pid_t	 conn_spawn(char **, const char *, int *, int *);
void	 conn_start(struct conn_io *, char **, const char *, size_t);
int	 conn_finish(struct conn_io *, struct rusage *);
void	 conn_send(struct conn_io *, const char *, size_t);
unsigned conn_cmd(struct conn_io *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 conn_fill(struct conn_io *, double);
char	*conn_line(struct conn_io *, size_t *, double);
long long conn_literal(const char *, size_t);
void	 conn_skip(struct conn_io *, unsigned long long,
	    void (*)(void *, const char *, size_t), void *);
const char *conn_find(const char *, size_t, const char *);
