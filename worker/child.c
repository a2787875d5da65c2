/* child: see child.h. */
#include "child.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

void child_enter(int gate_rd, int gate_wr, pid_t worker)
{
	char c;
	ssize_t n;
	struct sigaction sa;
	sigset_t all;

	setpgid(0, 0);
	close(gate_wr);
	while ((n = read(gate_rd, &c, 1)) < 0 && errno == EINTR)
		;
	/* The gate opens with one byte. EOF without it is a worker that died
	 * before opening it (TERMed as the run stops): nobody would ever reap
	 * or kill this command, so it does not run. getppid() alone cannot
	 * tell: a dying process closes its files before its children are
	 * given to another parent. */
	if (n != 1 || getppid() != worker)
		_exit(127);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

void child_exec_shell(const char *cmd, char **envp, int in, int out, int err)
{
	char *argv[] = {"sh", "-c", (char *)cmd, NULL};

	if (in < 0)
		in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0)
		_exit(127);
	/* the command gets stdin, stdout and stderr, nothing of the worker's */
	close_range(3, ~0U, 0);
	execve("/bin/sh", argv, envp);
	_exit(127);
}
