/* login_gate: asking the supervisor for room before an SSH login, and
 * giving it back (login_gate.h). */
#include "login_gate.h"

#include <msgpack.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "worker.h"

/* One task at a time, one login at a time: the gate's state is the
 * worker's. */
static struct {
	int max, jump_max;       /* the run's limits (proto_settings) */
	struct frame_reader *rd; /* main.c's, owned there */
	bool holding;            /* a login was granted and has not ended */
	int frame_fd;            /* while holding: where to say it ended */
	uint64_t id;             /* and for which task */
} login_gate;

void login_gate_setup(const struct proto_settings *settings, struct frame_reader *rd)
{
	login_gate.max = settings->max_logins;
	login_gate.jump_max = settings->jump_max_logins;
	login_gate.rd = rd;
	login_gate.holding = false;
}

/* Does the run limit this login? */
static bool login_gate_limited(const char *key)
{
	return login_gate.rd && (login_gate.max > 0 || (key && *key && login_gate.jump_max > 0));
}

/* Block until the supervisor's grant for task id. 0, or -1 with err. */
static int login_gate_wait(uint64_t id, struct err *err)
{
	msgpack_zone zone;
	msgpack_object obj;
	enum proto_type type;
	struct proto_login l;
	const char *p;
	size_t n;
	int r = -1, got;

	msgpack_zone_init(&zone, 1024);
	got = worker_read_frame(login_gate.rd, &p, &n);
	if (got <= 0) {
		err_set(err, "waiting for a login slot: the supervisor %s", got == 0 ? "closed the pipe" : "is unreadable");
		goto out;
	}
	if (proto_decode(p, n, &zone, &obj, &type, err) < 0)
		goto out;
	if (type != PROTO_LOGIN_GRANT || proto_decode_login(&obj, &l, err) < 0 || l.id != id) {
		err_set(err, "waiting for a login slot: the supervisor sent another message");
		goto out;
	}
	r = 0;
out:
	msgpack_zone_destroy(&zone);
	return r;
}

static int login_gate_send(int fd, uint64_t id, enum proto_type type, const char *key)
{
	struct proto_login l = {0, id, proto_cstr(key), 0};
	struct buf f = BUF_INIT;
	int r;

	if (key)
		l.has |= PROTO_LOGIN_KEY;
	proto_encode_login(&f, type, &l);
	r = fd_write_all(fd, f.data, f.len);
	buf_free(&f);
	return r;
}

int64_t login_gate_enter(struct step_ctx *ctx, const char *key, struct err *err)
{
	int64_t t0, waited;

	if (!login_gate_limited(key))
		return 0;
	login_gate_leave(); /* one login at a time: the last one is over */
	t0 = clock_mono_us();
	if (login_gate_send(ctx->frame_fd, ctx->task->id, PROTO_LOGIN, key && *key ? key : "") < 0) {
		err_set(err, "asking for a login slot: the supervisor is gone");
		return -1;
	}
	if (login_gate_wait(ctx->task->id, err) < 0)
		return -1;
	login_gate.holding = true;
	login_gate.frame_fd = ctx->frame_fd;
	login_gate.id = ctx->task->id;
	waited = clock_mono_us() - t0;
	/* the wait is not the task's: its deadlines move by as much, as the
	 * supervisor's hang timer for this worker does */
	ctx->deadline_us += waited;
	ctx->state->login_wait_us += waited;
	if (waited >= 1000)
		log_debug("%s: waited %.3fs for a login slot", ctx->task->host, waited / 1e6);
	return waited;
}

void login_gate_leave(void)
{
	if (!login_gate.holding)
		return;
	login_gate.holding = false;
	login_gate_send(login_gate.frame_fd, login_gate.id, PROTO_LOGIN_DONE, NULL);
}
