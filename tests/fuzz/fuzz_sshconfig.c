/* libFuzzer target: the ssh_config reader and resolver (common/sshconfig.c).
 *
 * Input: one mode byte, then the text of a config file.
 *   mode & 1   read as a user's file (else the system's)
 *   mode >> 1  which of a few host names (and given user) to resolve
 *
 * Include lines are checked but not followed (SSHCONFIG_NO_INCLUDE): a
 * fuzzed glob must not walk this machine's file system. Every parse and
 * every resolve must end with 0 or an error, never a crash, a leak or a
 * loop; what a resolve gives is checked to be whole strings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sshconfig.h"
#include "util.h"

#define CHECK(cond)                                                                                        \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "fuzz_sshconfig: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

static const char *const fuzz_hosts[] = {"web1", "DB1.example", "..", "a,b", "10.0.0.1", "x*y"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("HOME", "/nonexistent-fuzz-home", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sshconfig cfg = {0};
	struct err err = {{0}};
	int mode;

	if (size < 1)
		return 0;
	mode = data[0];
	if (sshconfig_parse_text(&cfg, "fuzz", (const char *)data + 1, size - 1, mode & 1, SSHCONFIG_NO_INCLUDE,
	                         &err) == 0) {
		struct sshconfig_query q = {
			.host = fuzz_hosts[(mode >> 1) % ARRAY_LEN(fuzz_hosts)],
			.user = (mode & 0x40) ? "given" : NULL,
			.local_user = "me",
		};
		struct sshconfig_host h = {0};

		CHECK(sshconfig_ignored(&cfg) != NULL);
		if (sshconfig_resolve(&cfg, &q, &h, &err) == 0) {
			for (int k = 0; k < SSHCONFIG_KW_COUNT; k++)
				CHECK(!h.val[k] || (h.where[k] && strlen(h.val[k]) < size + 4096));
			for (size_t i = 0; i < h.nidentity_files; i++)
				CHECK(h.identity_files[i] != NULL);
			sshconfig_host_free(&h);
		}
	}
	CHECK(strlen(err.msg) < sizeof(err.msg));
	sshconfig_free(&cfg);
	return 0;
}
