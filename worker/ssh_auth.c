/* ssh_auth: authenticate one login: agent, key file, password,
 * keyboard-interactive, each when the login's settings ask for it and the
 * server offers it. Apart from the login (ssh_session.c): the ways to
 * authenticate and their order are their own concern; a jump host's login
 * uses them with its own settings (ssh_params_hop). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "ssh_session.h"

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(ssh_kbdint)
{
	struct ssh_login *c = *abstract;
	const char *pw = c && c->params.password ? c->params.password : "";

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)prompts;
	/* every prompt gets the password: what devices ask for is "Password:" */
	for (int i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(pw);
		responses[i].length = responses[i].text ? (unsigned int)strlen(pw) : 0;
	}
}

/* How one way to authenticate went. */
enum ssh_auth_rc {
	SSH_AUTH_OK,   /* authenticated */
	SSH_AUTH_NEXT, /* not accepted: the next way may be */
	SSH_AUTH_STOP, /* *st and err set: no other way is tried */
	SSH_AUTH_LATE, /* the deadline came first */
};

/* rc = call, called again while libssh2 would block; at the deadline, the
 * function using it returns SSH_AUTH_LATE. */
#define SSH_AUTH_CALL(rc, call)                                                                                \
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN)                                                        \
		if (ssh_session_wait(c, deadline_us) < 0)                                                              \
			return SSH_AUTH_LATE

/* The agent's identities, one after another, until one is accepted. The
 * agent speaks over a local socket; these calls block briefly on it, not
 * on the device. */
static enum ssh_auth_rc ssh_auth_agent_ids(struct ssh_login *c, LIBSSH2_AGENT *agent, int64_t deadline_us)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int rc;

	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0)
		return SSH_AUTH_NEXT;
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		SSH_AUTH_CALL(rc, libssh2_agent_userauth(agent, c->params.user, id));
		if (rc == 0)
			return SSH_AUTH_OK;
		prev = id;
	}
	return SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_agent(struct ssh_login *c, int64_t deadline_us, enum status *st, struct err *err)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(c->session);
	enum ssh_auth_rc rc;

	if (!agent)
		return SSH_AUTH_NEXT;
	rc = ssh_auth_agent_ids(c, agent, deadline_us);
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return rc;
}

static enum ssh_auth_rc ssh_auth_key(struct ssh_login *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	/* the key given, else ssh_config's IdentityFiles in order, where
	 * one that is missing or unreadable is skipped, as ssh does */
	for (size_t i = 0; i < (p->key ? 1 : p->nidentity_files); i++) {
		const char *key = p->key ? p->key : p->identity_files[i];
		SSH_AUTH_CALL(rc, libssh2_userauth_publickey_fromfile_ex(c->session, p->user,
		                                                         (unsigned int)strlen(p->user), NULL, key,
		                                                         p->passphrase));
		if (rc == 0)
			return SSH_AUTH_OK;
		if (p->key && (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)) {
			*st = STATUS_AUTH;
			err_set(err, "key %s could not be used: %s", p->key, ssh_session_errmsg(c->session));
			return SSH_AUTH_STOP;
		}
	}
	return SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_password(struct ssh_login *c, int64_t deadline_us, enum status *st,
                                          struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	SSH_AUTH_CALL(rc, libssh2_userauth_password_ex(c->session, p->user, (unsigned int)strlen(p->user),
	                                               p->password, (unsigned int)strlen(p->password), NULL));
	return rc == 0 ? SSH_AUTH_OK : SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_kbdint(struct ssh_login *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	*libssh2_session_abstract(c->session) = c; /* for ssh_kbdint */
	SSH_AUTH_CALL(rc, libssh2_userauth_keyboard_interactive_ex(c->session, p->user, (unsigned int)strlen(p->user),
	                                                           ssh_kbdint));
	return rc == 0 ? SSH_AUTH_OK : SSH_AUTH_NEXT;
}

#undef SSH_AUTH_CALL

static bool ssh_auth_agent_wanted(const struct ssh_params *p)
{
	return p->agent == 1 || (p->agent == -1 && !p->key && !p->password && getenv("SSH_AUTH_SOCK"));
}

static bool ssh_auth_key_wanted(const struct ssh_params *p)
{
	return p->key != NULL || p->nidentity_files > 0;
}

static bool ssh_auth_password_wanted(const struct ssh_params *p)
{
	return p->password != NULL;
}

/* The ways to authenticate, in the order they are tried: each when the
 * host's settings ask for it and the server offers it. */
static const struct ssh_auth_method {
	const char *name;    /* as the error's "tried: ..." names it */
	const char *offered; /* the server's name for it */
	bool (*wanted)(const struct ssh_params *p);
	enum ssh_auth_rc (*attempt)(struct ssh_login *c, int64_t deadline_us, enum status *st, struct err *err);
} ssh_auth_methods[] = {
	{"agent", "publickey", ssh_auth_agent_wanted, ssh_auth_agent},
	{"key", "publickey", ssh_auth_key_wanted, ssh_auth_key},
	{"password", "password", ssh_auth_password_wanted, ssh_auth_password},
	{"keyboard-interactive", "keyboard-interactive", ssh_auth_password_wanted, ssh_auth_kbdint},
};

/* Authenticate: agent, key file, password, keyboard-interactive
 * (ssh_auth_methods), each when configured and offered by the server. 0,
 * or -1 with *st (auth, or unreachable/timeout when the connection itself
 * failed) and err. */
int ssh_auth(struct ssh_login *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	LIBSSH2_SESSION *s = c->session;
	const char *methods;
	struct buf tried = BUF_INIT;
	enum ssh_auth_rc rc = SSH_AUTH_NEXT;
	int r = -1;

	while (!(methods = libssh2_userauth_list(s, p->user, (unsigned int)strlen(p->user))) &&
	       libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(c, deadline_us) < 0)
			goto late;
	if (!methods) {
		if (libssh2_userauth_authenticated(s)) {
			r = 0;
			goto out;
		}
		*st = STATUS_UNREACHABLE;
		err_set(err, "SSH session lost before authentication: %s", ssh_session_errmsg(s));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(ssh_auth_methods) && rc == SSH_AUTH_NEXT; i++) {
		const struct ssh_auth_method *m = &ssh_auth_methods[i];

		if (!m->wanted(p) || !strstr(methods, m->offered))
			continue;
		buf_printf(&tried, "%s ", m->name);
		rc = m->attempt(c, deadline_us, st, err);
		if (rc == SSH_AUTH_OK)
			c->auth_used = m->offered;
	}
	if (rc == SSH_AUTH_OK)
		r = 0;
	if (rc == SSH_AUTH_LATE)
		goto late;
	if (rc != SSH_AUTH_NEXT)
		goto out;
	*st = STATUS_AUTH;
	if (!tried.len)
		err_set(err, "no way to authenticate as %s: the server offers %s; configure key, password or agent",
		        p->user, methods);
	else
		err_set(err, "authentication as %s failed (tried: %.*s; server offers %s)", p->user,
		        (int)tried.len - 1, tried.data, methods);
	goto out;
late:
	*st = STATUS_UNREACHABLE;
	err_set(err, "authentication as %s did not finish in time", p->user);
out:
	buf_free(&tried);
	return r;
}
