/* record: result records as JSON, with yajl's generator. */
#include "record.h"

#include <math.h>
#include <string.h>

#include "base64.h"
#include "clock.h"
#include "journal.h"
#include "proto.h"
#include "task.h"
#include "utf8.h"

void record_init(struct record *r)
{
	memset(r, 0, sizeof(*r));
	r->when_sec = -1;
	r->gen = yajl_gen_alloc(NULL);
	if (!r->gen)
		abort();
}

void record_free(struct record *r)
{
	if (r->gen)
		yajl_gen_free(r->gen);
	buf_free(&r->error);
	buf_free(&r->first);
	memset(r, 0, sizeof(*r));
}

static void gen_key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

/* KEY: "text", or KEY_b64: "base64" when the bytes are not UTF-8. */
static void gen_bytes(yajl_gen g, const char *key, size_t klen, const char *p, size_t n)
{
	if (utf8_valid((const unsigned char *)p, n)) {
		yajl_gen_string(g, (const unsigned char *)key, klen);
		yajl_gen_string(g, (const unsigned char *)p, n);
	} else {
		struct buf k = BUF_INIT, v = BUF_INIT;
		buf_append(&k, key, klen);
		buf_puts(&k, RECORD_B64_SUFFIX);
		base64_append(&v, (const unsigned char *)p, n);
		yajl_gen_string(g, (const unsigned char *)k.data, k.len);
		yajl_gen_string(g, (const unsigned char *)v.data, v.len);
		buf_free(&k);
		buf_free(&v);
	}
}

/* msgpack -> JSON for the parts of a result passed through (steps, vars).
 * Depth is bounded by msgpack-c's unpacker; keys that are not strings are
 * dropped. */
static void gen_obj(yajl_gen g, const msgpack_object *o)
{
	const char *p;
	size_t n;

	switch (o->type) {
	case MSGPACK_OBJECT_BOOLEAN:
		yajl_gen_bool(g, o->via.boolean);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		yajl_gen_integer(g, o->via.u64 > INT64_MAX ? INT64_MAX : (long long)o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		yajl_gen_integer(g, o->via.i64);
		break;
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		/* JSON has no NaN or infinity; yajl writes nothing for them */
		if (isfinite(o->via.f64))
			yajl_gen_double(g, o->via.f64);
		else
			yajl_gen_null(g);
		break;
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN:
		proto_obj_bytes(o, &p, &n);
		if (utf8_valid((const unsigned char *)p, n)) {
			yajl_gen_string(g, (const unsigned char *)p, n);
		} else {
			struct buf v = BUF_INIT;
			base64_append(&v, (const unsigned char *)p, n);
			yajl_gen_string(g, (const unsigned char *)v.data, v.len);
			buf_free(&v);
		}
		break;
	case MSGPACK_OBJECT_ARRAY:
		yajl_gen_array_open(g);
		for (uint32_t i = 0; i < o->via.array.size; i++)
			gen_obj(g, &o->via.array.ptr[i]);
		yajl_gen_array_close(g);
		break;
	case MSGPACK_OBJECT_MAP:
		yajl_gen_map_open(g);
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *v = &o->via.map.ptr[i].val;
			if (!proto_obj_bytes(&o->via.map.ptr[i].key, &p, &n) || !utf8_valid((const unsigned char *)p, n))
				continue;
			if (v->type == MSGPACK_OBJECT_STR || v->type == MSGPACK_OBJECT_BIN) {
				const char *vp;
				size_t vn;
				proto_obj_bytes(v, &vp, &vn);
				gen_bytes(g, p, n, vp, vn);
			} else {
				yajl_gen_string(g, (const unsigned char *)p, n);
				gen_obj(g, v);
			}
		}
		yajl_gen_map_close(g);
		break;
	default:
		yajl_gen_null(g);
		break;
	}
}

/* Formatting a time costs more than the rest of a record: the record
 * remembers the last second it formatted. */
static void record_when(struct record *r, int64_t wall_ms, char out[40])
{

	/* four-digit years only: gmtime fails past them, and the digits
	 * below index from the end of the text */
	if (wall_ms < 0)
		wall_ms = 0;
	if (wall_ms > RECORD_MAX_WALL_MS)
		wall_ms = RECORD_MAX_WALL_MS;

	if (wall_ms / 1000 != r->when_sec) {
		clock_iso8601(wall_ms - wall_ms % 1000, r->when, sizeof(r->when));
		r->when_sec = wall_ms / 1000;
	}
	memcpy(out, r->when, 40);
	/* "...:SS.mmmZ": overwrite the milliseconds */
	size_t n = strlen(out);
	out[n - 4] = (char)('0' + wall_ms % 1000 / 100);
	out[n - 3] = (char)('0' + wall_ms % 100 / 10);
	out[n - 2] = (char)('0' + wall_ms % 10);
}

static void record_head(struct record *r, const struct record_info *info, enum status status)
{
	yajl_gen g = r->gen;
	char when[40], task[17];
	const char *st = status_name(status);

	yajl_gen_reset(g, NULL);
	yajl_gen_clear(g);
	r->status = status;
	r->duration_ms = info->duration_ms;
	buf_reset(&r->error);
	buf_reset(&r->first);
	r->has_error = false;
	record_when(r, info->started_wall_ms, when);
	yajl_gen_map_open(g);
	gen_bytes(g, "host", 4, info->host, strlen(info->host));
	gen_bytes(g, "job", 3, info->job, strlen(info->job));
	/* the stable id --resume matches on, whatever the inventory order */
	journal_task_hex(task_key(info->job, info->host), task);
	gen_key(g, "task");
	yajl_gen_string(g, (const unsigned char *)task, 16);
	if (info->shard) {
		/* which shard's journal to look in, and to resume */
		gen_key(g, "shard");
		yajl_gen_string(g, (const unsigned char *)info->shard, strlen(info->shard));
	}
	gen_key(g, "status");
	yajl_gen_string(g, (const unsigned char *)st, strlen(st));
	gen_key(g, "attempt");
	yajl_gen_integer(g, info->attempt);
	gen_key(g, "started");
	yajl_gen_string(g, (const unsigned char *)when, strlen(when));
	gen_key(g, "duration_ms");
	yajl_gen_integer(g, info->duration_ms);
	gen_key(g, "worker");
	if (info->worker)
		yajl_gen_integer(g, info->worker);
	else
		yajl_gen_null(g);
	if (info->interrupted) {
		/* not final: --resume runs the task again */
		gen_key(g, "interrupted");
		yajl_gen_bool(g, 1);
	}
}

/* The error member (text or null), the end of the object, and the
 * rendered bytes into r. */
static void record_tail(struct record *r, const char *error, size_t elen)
{
	const unsigned char *out;
	size_t n;

	if (error) {
		gen_bytes(r->gen, "error", 5, error, elen);
		buf_append(&r->error, error, elen);
		r->has_error = true;
	} else {
		gen_key(r->gen, "error");
		yajl_gen_null(r->gen);
	}
	yajl_gen_map_close(r->gen);
	yajl_gen_get_buf(r->gen, &out, &n);
	r->json = (const char *)out;
	r->json_len = n;
}

void record_make(struct record *r, const struct record_info *info, enum status status, const char *error)
{

	record_head(r, info, status);
	gen_key(r->gen, "steps");
	yajl_gen_array_open(r->gen);
	yajl_gen_array_close(r->gen);
	gen_key(r->gen, "vars");
	yajl_gen_map_open(r->gen);
	yajl_gen_map_close(r->gen);
	record_tail(r, error, error ? strlen(error) : 0);
}

/* The first line of the last step's non-empty output (stdout or HTTP
 * body), for text output; for steps with no output, what they measured. */
static void record_first_line(struct record *r, const struct proto_result *res)
{
	const struct proto_step *last;

	for (size_t i = res->nsteps; i-- > 0;) {
		const struct proto_step *st = &res->steps[i];
		if ((st->has & PROTO_STEP_OUTPUT) && st->out.n > 0) {
			size_t k = 0;
			while (k < st->out.n && st->out.p[k] != '\n' && st->out.p[k] != '\r')
				k++;
			buf_append(&r->first, st->out.p, k);
			return;
		}
	}
	/* no output at all: what the last step measured (ping, tcp) */
	if (res->nsteps == 0)
		return;
	last = &res->steps[res->nsteps - 1];
	if ((last->has & PROTO_STEP_SENT) && (last->has & PROTO_STEP_RECEIVED))
		buf_printf(&r->first, "%lld/%lld echo replies", (long long)last->received, (long long)last->sent);
	if (last->has & PROTO_STEP_RTT_MS)
		buf_printf(&r->first, ", rtt %.2f ms", last->rtt_ms);
	if (last->has & PROTO_STEP_CONNECT_MS)
		buf_printf(&r->first, "connected in %.2f ms", last->connect_ms);
}

void record_from_result(struct record *r, const struct proto_result *res, const struct record_info *info)
{
	struct record_info ri = *info;

	/* Devices are hostile, and a worker that talked to one may say
	 * anything: its times are taken only where they can be true. The
	 * task started after the supervisor sent it and lasted no longer
	 * than the supervisor waited for it (give or take a clock step);
	 * otherwise the supervisor's own figures stand. */
	if ((res->has & PROTO_RESULT_STARTED_MS) && res->started_ms >= info->started_wall_ms - RECORD_CLOCK_SLACK_MS &&
	    res->started_ms <= info->started_wall_ms + info->duration_ms + RECORD_CLOCK_SLACK_MS)
		ri.started_wall_ms = res->started_ms;
	if ((res->has & PROTO_RESULT_DURATION_MS) && res->duration_ms >= 0 &&
	    res->duration_ms <= info->duration_ms + RECORD_CLOCK_SLACK_MS)
		ri.duration_ms = res->duration_ms;
	record_head(r, &ri, res->status);
	/* steps and vars go through as the worker sent them: every field,
	 * those a newer worker adds included, in its order */
	gen_key(r->gen, "steps");
	yajl_gen_array_open(r->gen);
	for (size_t i = 0; i < res->nsteps; i++)
		gen_obj(r->gen, res->steps[i].raw);
	yajl_gen_array_close(r->gen);
	gen_key(r->gen, "vars");
	if (res->vars_raw)
		gen_obj(r->gen, res->vars_raw);
	else {
		yajl_gen_map_open(r->gen);
		yajl_gen_map_close(r->gen);
	}
	if (res->has & PROTO_RESULT_JUMP)
		/* the jump hosts the connection went through (audit trail) */
		gen_bytes(r->gen, "jump", 4, res->jump.p, res->jump.n);
	/* the audit trail of the SSH connection, as the worker sent it */
	if ((res->has & PROTO_RESULT_SSH) && res->ssh.raw) {
		gen_key(r->gen, "ssh");
		gen_obj(r->gen, res->ssh.raw);
	}
	record_tail(r, res->error.p, res->error.n);
	record_first_line(r, res);
}
