/* version: fleetrun's version, and the versions of the libraries that
 * reach devices, since what a run can talk to depends on them (libssh2
 * 1.10 could not sign with rsa-sha2 nor do strict key exchange).
 *
 * libssh2: the one fleetrun is linked with; the Makefile links the
 * supervisor and the workers with the same one (static when make deps
 * built it), and says how (FLEETRUN_LIBSSH2_HOW). libcurl: the one a
 * worker with HTTP steps would load, found here the same way, by dlopen of
 * the same soname; the supervisor itself does not link it. */
#include <curl/curl.h>
#include <dlfcn.h>
#include <libssh2.h>
#include <stdio.h>

#include "proto.h"
#include "version.h"

#ifndef FLEETRUN_LIBSSH2_HOW
#define FLEETRUN_LIBSSH2_HOW "how it was linked is unknown"
#endif

static void version_libcurl(FILE *out)
{
	void *so = dlopen(FLEETRUN_LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	__typeof__(curl_version_info) *info;
	const curl_version_info_data *d;

	if (!so) {
		fprintf(out, "libcurl none: HTTP steps need %s: %s\n", FLEETRUN_LIBCURL_SONAME, dlerror());
		return;
	}
	*(void **)&info = dlsym(so, "curl_version_info");
	d = info ? info(CURLVERSION_NOW) : NULL;
	if (d)
		fprintf(out, "libcurl %s (%s, loaded by workers with HTTP steps; %s)\n", d->version,
		        FLEETRUN_LIBCURL_SONAME, d->ssl_version ? d->ssl_version : "no TLS");
	else
		fprintf(out, "libcurl unknown: %s has no curl_version_info\n", FLEETRUN_LIBCURL_SONAME);
	dlclose(so);
}

void version_print(FILE *out)
{
	fprintf(out, "fleetrun %s (protocol %d)\n", FLEETRUN_VERSION, PROTO_VERSION);
	fprintf(out, "libssh2 %s (%s)\n", libssh2_version(0), FLEETRUN_LIBSSH2_HOW);
	version_libcurl(out);
}
