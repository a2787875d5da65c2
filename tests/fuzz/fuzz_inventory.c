/* libFuzzer target: the inventory parsers (runner/inventory_text.c,
 * inventory_yaml.c): plain text and Ansible-style YAML inventories (-i),
 * host patterns (-H) with their range expander (runner/hostrange.c), and
 * the -l filter (runner/targets.c).
 *
 * Input: one mode byte, then the text.
 *   mode % 4 == 0  a plain text inventory
 *   mode % 4 == 1  a YAML inventory
 *   mode % 4 == 2  -H patterns: the text's lines, each one pattern
 *   mode % 4 == 3  a -l limit (the first line) over a YAML inventory (the rest)
 *
 * Inventories are read by path, as fleetrun reads them: the text goes into
 * a memfd, reached through symlinks named inv.txt and inv.yml (the name
 * decides the format) in a private directory, so nothing is written to
 * disk and the repo's public API stays as it is.
 *
 * Expansion is lazy and may be astronomically long ('h[1-99999999999]'):
 * at most HOSTS_MAX hosts are taken per input. An inventory's error is
 * checked to hold no control byte, whatever it quotes from the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hostrange.h"
#include "targets.h"
#include "util.h"

#define HOSTS_MAX 2000
#define PATTERNS_MAX 16

#define CHECK(cond)                                                                                        \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "fuzz_inventory: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

static int memfd = -1;
static char dir[64], txt_path[96], yml_path[96];

static void cleanup(void)
{
	unlink(txt_path);
	unlink(yml_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR");
	char target[64];

	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz-inventory", MFD_CLOEXEC);
	snprintf(dir, sizeof(dir), "%.40s/fuzz-inv-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (memfd < 0 || !mkdtemp(dir)) {
		perror("fuzz_inventory: memfd_create/mkdtemp");
		abort();
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", memfd);
	snprintf(txt_path, sizeof(txt_path), "%s/inv.txt", dir);
	snprintf(yml_path, sizeof(yml_path), "%s/inv.yml", dir);
	if (symlink(target, txt_path) < 0 || symlink(target, yml_path) < 0) {
		perror("fuzz_inventory: symlink");
		abort();
	}
	atexit(cleanup);
	return 0;
}

static void put_file(const uint8_t *p, size_t n)
{
	CHECK(ftruncate(memfd, 0) == 0);
	CHECK(pwrite(memfd, p, n, 0) == (ssize_t)n);
}

/* An error about an inventory file shows what it quotes from the file
 * (a group name, a key, a range) with its control bytes as '?', the
 * sources' own quoting. (The log escapes whatever else reaches stderr;
 * -H and -l messages rely on that, and are not checked here.) */
static void check_message(const struct targets_opts *o, const struct err *err)
{
	if (!o->ninventories || strncmp(err->msg, o->inventories[0], strlen(o->inventories[0])) != 0)
		return;
	for (const char *p = err->msg; *p; p++)
		CHECK((unsigned char)*p >= 0x20 && *p != 0x7f);
}

/* Open the targets and take up to HOSTS_MAX hosts, checking each. */
static void drain(const struct targets_opts *o)
{
	struct targets *t = NULL;
	struct err err;
	struct host h;
	int got = 0;

	if (targets_open(o, &t, &err) < 0) {
		check_message(o, &err);
		return;
	}
	for (int i = 0; i < HOSTS_MAX && (got = targets_next(t, &h, &err)) > 0; i++) {
		CHECK(h.name != NULL);
		/* a filtered host passes its own filter */
		CHECK(targets_limit_match(o->limit, &h));
		for (size_t k = 0; k < h.vars.len; k++)
			CHECK(h.vars.items[k].key && h.vars.items[k].value);
		for (size_t k = 0; k < h.ngroups; k++)
			CHECK(h.groups[k] != NULL);
		host_free(&h);
	}
	if (got < 0)
		check_message(o, &err);
	targets_close(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct targets_opts o = {0};
	const char *inv[1];
	const char *pats[PATTERNS_MAX];
	char *text;
	int mode;

	if (size < 1)
		return 0;
	mode = data[0] % 4;
	data++;
	size--;
	switch (mode) {
	case 0:
	case 1:
		put_file(data, size);
		inv[0] = mode == 0 ? txt_path : yml_path;
		o.inventories = inv;
		o.ninventories = 1;
		drain(&o);
		break;
	case 2: {
		size_t np = 0;
		char *save = NULL;

		/* strtok_r wants a NUL-terminated copy; a NUL inside ends it,
		 * as it would end a command-line argument. */
		text = xstrndup((const char *)data, size);
		for (char *l = strtok_r(text, "\n", &save); l && np < PATTERNS_MAX; l = strtok_r(NULL, "\n", &save))
			pats[np++] = l;
		o.patterns = pats;
		o.npatterns = np;
		drain(&o);
		/* the iterator on its own, as `fleetrun hosts` would use it */
		if (np > 0) {
			struct hostrange *r = NULL;
			struct err err;
			const char *name;

			if (hostrange_open(pats[0], &r, &err) == 0) {
				for (int i = 0; i < HOSTS_MAX && hostrange_next(r, &name) == 1; i++)
					CHECK(name && *name);
				hostrange_close(r);
			}
		}
		free(text);
		break;
	}
	case 3: {
		const uint8_t *nl = memchr(data, '\n', size);
		size_t llen = nl ? (size_t)(nl - data) : size;

		text = xstrndup((const char *)data, llen);
		put_file(nl ? nl + 1 : data + size, nl ? size - llen - 1 : 0);
		inv[0] = yml_path; /* groups, for the globs to match */
		o.inventories = inv;
		o.ninventories = 1;
		o.limit = text;
		drain(&o);
		free(text);
		break;
	}
	}
	return 0;
}
