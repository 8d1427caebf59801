/*
 * t/maxrss: run a command and print its peak resident set size.
 *
 *	t/maxrss FILE COMMAND [ARG...]
 *
 * runs COMMAND with fork and exec, waits for it with wait4 and writes
 * ru_maxrss (KiB on Linux) to FILE, one line. The exit status is the
 * command's (128 + the signal when a signal ended it). The figure is the
 * largest of the command and of the descendants it waited for, so a
 * wrapper such as timeout(1) or setpriv(1) in front of imapd is fine.
 */
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <unistd.h>

int
main(int argc, char *argv[])
{
	struct rusage	 ru;
	FILE		*f;
	pid_t		 pid;
	int		 status;

	if (argc < 3) {
		fprintf(stderr, "usage: maxrss file command [arg ...]\n");
		return 2;
	}
	if ((pid = fork()) == -1) {
		perror("maxrss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) == -1) {
		perror("maxrss: wait4");
		return 2;
	}
	if ((f = fopen(argv[1], "w")) == NULL ||
	    fprintf(f, "%ld\n", ru.ru_maxrss) < 0 || fclose(f) == EOF) {
		perror(argv[1]);
		return 2;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
