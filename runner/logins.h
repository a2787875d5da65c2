/* logins: the supervisor's count of SSH logins in progress, for
 * --max-logins and jump_max_logins (README, "Pacing logins").
 *
 * A login is an unauthenticated SSH handshake: from the TCP connect (or
 * the channel that carries it through a jump host) until it is
 * authenticated, refused or dead. sshd drops new connections once
 * MaxStartups (10 by default) are unauthenticated, and AAA servers fall
 * over under login storms; workers are separate processes, so only the
 * supervisor can count them. Before a login a worker asks for a slot,
 * waits for the grant, and says when the login ended (worker/login_gate.c).
 *
 * A login has a key: "" for a device reached directly, "host:port" for a
 * login to that jump host. Every login counts against the overall limit;
 * one with a key counts against that key's limit too. Waiting workers
 * are granted in the order they asked, skipping those whose key is full
 * (a full bastion does not hold up logins elsewhere).
 *
 * Pure bookkeeping: no clock, no processes. pool.c drives it (the hang
 * timer of a waiting worker is paused) and tests/unit/test_logins.c
 * tests it. */
#ifndef FLEETRUN_LOGINS_H
#define FLEETRUN_LOGINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The limits come from the job's ssh: section (max_logins,
 * jump_max_logins: common/job.h has the default of the latter, 8) or
 * fleetrun run's --max-logins and --jump-max-logins. */

enum logins_state {
	LOGINS_NONE,    /* no login */
	LOGINS_WAITING, /* asked, not granted yet */
	LOGINS_HOLDING, /* granted: its login is in progress */
};

struct logins_slot {
	enum logins_state state;
	int key;          /* index in keys, -1 for a login without a key */
	int64_t since_ms; /* waiting since (the caller's clock) */
};

struct logins_key {
	char *name;       /* NULL: the entry is free; else malloced, owned */
	int active;       /* logins holding it */
	int refs;         /* slots waiting for it or holding it */
};

struct logins {
	int max;          /* overall, 0: no limit */
	int key_max;      /* per key, 0: no limit */
	int active;       /* logins in progress (holding), every key */
	struct logins_slot *slots; /* nslots of them, owned */
	int nslots;
	int *queue;       /* slots waiting, first asked first: nslots room, owned */
	int nqueue;
	struct logins_key *keys; /* nkeys entries, some free; owned */
	int nkeys;
};

/* No limits and nslots slots doing nothing (nslots may be 0). */
void logins_init(struct logins *l, int nslots, int max, int key_max);
void logins_free(struct logins *l);
/* Does the run limit logins at all? Without limits a worker never asks. */
bool logins_enabled(const struct logins *l);

/* slot asks for a login with key (n bytes, n 0 for none) and waits for
 * logins_grant to hand it over (at once when there is room). 0, or -1
 * when it already waits or holds one (a worker logs in once at a time). */
int logins_request(struct logins *l, int slot, const char *key, size_t n, int64_t now);
/* slot's login ended, or it stopped waiting, or its worker is gone:
 * whatever it held or waited for is given up. Nothing when it had none.
 * Then logins_grant may have a slot to hand out. */
void logins_release(struct logins *l, int slot);
/* The next waiting slot that may log in now, in the order they asked:
 * it holds its login from now on. The slot, with *waited_ms (now minus
 * when it asked), or -1 when none may. */
int logins_grant(struct logins *l, int64_t now, int64_t *waited_ms);
enum logins_state logins_state_of(const struct logins *l, int slot);

#endif
