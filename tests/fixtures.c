/* Shared helpers for the tests: temporary directories, PKIs, child processes. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "fixtures.h"

char *fx_tempdir(void)
{
	const char *base = getenv("TMPDIR");
	char tmpl[4096];

	snprintf(tmpl, sizeof(tmpl), "%s/oatest-XXXXXX", base && base[0] ? base : "/tmp");
	char *dir = mkdtemp(tmpl);
	assert_non_null(dir);
	return strdup(dir);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

void fx_tempdir_remove(char *path)
{
	if (path == NULL) {
		return;
	}
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

char *fx_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2;
	char *p = malloc(len);

	assert_non_null(p);
	snprintf(p, len, "%s/%s", dir, name);
	return p;
}

void fx_write(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

oa_pki_cert *fx_issue(const oa_pki_spec *spec, const oa_pki_cert *issuer)
{
	oa_pki_cert *cert = NULL;
	oa_error err;

	oa_error_clear(&err);
	if (oa_pki_issue(spec, issuer, &cert, &err) < 0) {
		fail_msg("oa_pki_issue: %s", err.msg);
	}
	return cert;
}

oa_pki_spec fx_ca_spec(const char *cn, int days)
{
	oa_pki_spec spec;

	oa_pki_spec_init(&spec, cn, days);
	spec.is_ca = true;
	return spec;
}

oa_pki_spec fx_leaf_spec(const char *cn, const char *dns, int days)
{
	static const char *names[8];
	static size_t next;
	oa_pki_spec spec;

	oa_pki_spec_init(&spec, cn, days);
	if (dns != NULL) {
		/* A small ring so a caller can hold a few specs at once. */
		names[next % 8] = dns;
		spec.dns_names = &names[next % 8];
		spec.n_dns_names = 1;
		next++;
	}
	return spec;
}

char *fx_chain_file(const char *dir, const char *name, const oa_pki_cert *const *certs, size_t n)
{
	char *path = fx_path(dir, name);
	oa_error err;

	if (oa_pki_write_chain(path, certs, n, &err) < 0) {
		fail_msg("write chain: %s", err.msg);
	}
	return path;
}

void fx_pki_make(fx_pki *pki)
{
	static const char *const leaf_names[] = {"origin.example.com", "www.example.com"};
	oa_pki_spec root = fx_ca_spec("Test Root CA", 3650);
	oa_pki_spec inter = fx_ca_spec("Test Intermediate CA", 1825);
	oa_pki_spec leaf;

	oa_pki_spec_init(&leaf, "origin.example.com", 90);
	leaf.dns_names = leaf_names;
	leaf.n_dns_names = 2;
	pki->root = fx_issue(&root, NULL);
	pki->inter = fx_issue(&inter, pki->root);
	pki->leaf = fx_issue(&leaf, pki->inter);
}

void fx_pki_free(fx_pki *pki)
{
	oa_pki_cert_destroy(pki->leaf);
	oa_pki_cert_destroy(pki->inter);
	oa_pki_cert_destroy(pki->root);
	memset(pki, 0, sizeof(*pki));
}

struct sink {
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	bool open;
};

static void sink_read(struct sink *s)
{
	char tmp[8192];
	ssize_t n = read(s->fd, tmp, sizeof(tmp));

	if (n <= 0) {
		if (n < 0 && errno == EINTR) {
			return;
		}
		s->open = false;
		return;
	}
	if (s->len + (size_t)n + 1 > s->cap) {
		size_t cap = (s->cap + (size_t)n + 1) * 2;
		char *buf = realloc(s->buf, cap);

		assert_non_null(buf);
		s->buf = buf;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, tmp, (size_t)n);
	s->len += (size_t)n;
	s->buf[s->len] = '\0';
}

int fx_run(char *const argv[], char **out, char **err, int timeout_s)
{
	int po[2];
	int pe[2];
	struct sink sinks[2];
	time_t deadline = time(NULL) + timeout_s;
	int status = 0;

	assert_int_equal(pipe2(po, O_CLOEXEC), 0);
	assert_int_equal(pipe2(pe, O_CLOEXEC), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);

		dup2(devnull, STDIN_FILENO);
		dup2(po[1], STDOUT_FILENO);
		dup2(pe[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(po[1]);
	close(pe[1]);
	memset(sinks, 0, sizeof(sinks));
	sinks[0].fd = po[0];
	sinks[1].fd = pe[0];
	sinks[0].open = true;
	sinks[1].open = true;
	while (sinks[0].open || sinks[1].open) {
		struct pollfd fds[2];
		nfds_t nf = 0;
		struct sink *which[2];

		for (int i = 0; i < 2; i++) {
			if (sinks[i].open) {
				fds[nf].fd = sinks[i].fd;
				fds[nf].events = POLLIN;
				which[nf] = &sinks[i];
				nf++;
			}
		}
		int left = (int)(deadline - time(NULL));
		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		int rc = poll(fds, nf, left * 1000);
		if (rc < 0 && errno == EINTR) {
			continue;
		}
		for (nfds_t i = 0; i < nf; i++) {
			if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				sink_read(which[i]);
			}
		}
	}
	close(po[0]);
	close(pe[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
	for (int i = 0; i < 2; i++) {
		char **dst = i == 0 ? out : err;

		if (sinks[i].buf == NULL) {
			sinks[i].buf = strdup("");
		}
		if (dst != NULL) {
			*dst = sinks[i].buf;
		} else {
			free(sinks[i].buf);
		}
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

unsigned fx_free_port(const char *address)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int family = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, address, &sin->sin_addr), 1);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, address, &sin6->sin6_addr), 1);
		len = sizeof(*sin6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	close(fd);
	return family == AF_INET ? ntohs(((struct sockaddr_in *)&ss)->sin_port)
				 : ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
}

int fx_spawn(char *const argv[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, STDIN_FILENO);
		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		setpgid(0, 0);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

bool fx_wait_listening(const char *address, unsigned port, int timeout_ms)
{
	int family = strchr(address, ':') != NULL ? AF_INET6 : AF_INET;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		struct sockaddr_storage ss;
		socklen_t len;
		int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		memset(&ss, 0, sizeof(ss));
		if (family == AF_INET) {
			struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

			sin->sin_family = AF_INET;
			sin->sin_port = htons((uint16_t)port);
			inet_pton(AF_INET, address, &sin->sin_addr);
			len = sizeof(*sin);
		} else {
			struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)port);
			inet_pton(AF_INET6, address, &sin6->sin6_addr);
			len = sizeof(*sin6);
		}
		int rc = connect(fd, (struct sockaddr *)&ss, len);
		close(fd);
		if (rc == 0) {
			return true;
		}
		usleep(20000);
	}
	return false;
}

void fx_kill(int pid)
{
	int status;

	if (pid <= 0) {
		return;
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
	}
}

char *fx_bundle_file(const char *dir, const char *name, const oa_pki_cert *root)
{
	return fx_chain_file(dir, name, &root, 1);
}

char *fx_key_file(const char *dir, const char *name, const oa_pki_cert *cert)
{
	char *path = fx_path(dir, name);
	oa_error err;

	if (oa_pki_write_key(path, cert, &err) < 0) {
		fail_msg("write key: %s", err.msg);
	}
	return path;
}

gnutls_datum_t fx_pem_concat(const oa_pki_cert *const *certs, size_t n)
{
	gnutls_datum_t out = {NULL, 0};
	size_t len = 0;

	for (size_t i = 0; i < n; i++) {
		len += oa_pki_cert_pem(certs[i])->size;
	}
	out.data = malloc(len);
	assert_non_null(out.data);
	for (size_t i = 0; i < n; i++) {
		const gnutls_datum_t *pem = oa_pki_cert_pem(certs[i]);

		memcpy(out.data + out.size, pem->data, pem->size);
		out.size += pem->size;
	}
	return out;
}

char *fx_find_tool(const char *name)
{
	const char *path = getenv("PATH");
	char *copy = strdup(path != NULL ? path : "/usr/bin:/bin");
	char *save = NULL;
	char *found = NULL;

	assert_non_null(copy);
	for (char *dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		char *p = fx_path(dir, name);

		if (access(p, X_OK) == 0) {
			found = p;
			break;
		}
		free(p);
	}
	free(copy);
	return found;
}

/*
 * The port process pid listens on (TCP, IPv6 when v6), found from its socket
 * descriptors and /proc/net/tcp[6]; 0 while it has none.
 */
static unsigned listening_port_of(int pid, bool v6)
{
	char path[64];
	unsigned long inodes[64];
	size_t n_inodes = 0;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (d == NULL) {
		return 0;
	}
	while ((de = readdir(d)) != NULL && n_inodes < 64) {
		char link[300];
		char target[64];
		unsigned long inode;

		snprintf(link, sizeof(link), "/proc/%d/fd/%s", pid, de->d_name);
		ssize_t len = readlink(link, target, sizeof(target) - 1);
		if (len > 0) {
			target[len] = '\0';
			if (sscanf(target, "socket:[%lu]", &inode) == 1) {
				inodes[n_inodes++] = inode;
			}
		}
	}
	closedir(d);
	FILE *f = fopen(v6 ? "/proc/net/tcp6" : "/proc/net/tcp", "r");
	char line[512];
	unsigned port = 0;
	if (f == NULL) {
		return 0;
	}
	while (port == 0 && fgets(line, sizeof(line), f) != NULL) {
		char local[64];
		unsigned st;
		unsigned long inode;

		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*s %63s %*s %x %*s %*s %*s %*s %*s %lu", local, &st, &inode) !=
			3 ||
		    st != 0x0A) {
			continue;
		}
		for (size_t i = 0; i < n_inodes; i++) {
			const char *colon = strrchr(local, ':');

			if (inodes[i] == inode && colon != NULL) {
				port = (unsigned)strtoul(colon + 1, NULL, 16);
			}
		}
	}
	fclose(f);
	return port;
}

int fx_s_server_start(const char *openssl, const char *dir, const char *address,
		      const oa_pki_cert *leaf, const oa_pki_cert *const *rest, size_t n_rest,
		      const char *const *extra, unsigned *port)
{
	static unsigned started;
	char name[64];
	char accept[64];
	char *argv[40];
	int n = 0;
	bool v6 = strchr(address, ':') != NULL;

	/*
	 * Port 0: the kernel picks a free port as s_server binds, so no other
	 * program can take it between a probe for a free port and the bind.
	 */
	started++;
	snprintf(name, sizeof(name), "s_server-%d-%u-leaf.pem", (int)getpid(), started);
	char *cert = fx_chain_file(dir, name, &leaf, 1);
	snprintf(name, sizeof(name), "s_server-%d-%u-leaf.key", (int)getpid(), started);
	char *key = fx_key_file(dir, name, leaf);
	char *chain = NULL;
	if (n_rest > 0) {
		snprintf(name, sizeof(name), "s_server-%d-%u-chain.pem", (int)getpid(), started);
		chain = fx_chain_file(dir, name, rest, n_rest);
	}
	snprintf(accept, sizeof(accept), v6 ? "[%s]:0" : "%s:0", address);
	argv[n++] = (char *)openssl;
	argv[n++] = "s_server";
	argv[n++] = "-quiet";
	argv[n++] = "-accept";
	argv[n++] = accept;
	argv[n++] = "-cert";
	argv[n++] = cert;
	argv[n++] = "-key";
	argv[n++] = key;
	if (chain != NULL) {
		argv[n++] = "-cert_chain";
		argv[n++] = chain;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++) {
		assert_true(n < 39);
		argv[n++] = (char *)extra[i];
	}
	argv[n] = NULL;
	int pid = fx_spawn(argv);
	/* s_server has read its files once it listens: its own socket tells the port. */
	*port = 0;
	for (int waited = 0; waited < 5000 && *port == 0; waited += 20) {
		*port = listening_port_of(pid, v6);
		if (*port == 0) {
			usleep(20000);
		}
	}
	bool listening = *port != 0 && fx_wait_listening(address, *port, 5000);
	free(cert);
	free(key);
	free(chain);
	if (!listening) {
		fx_kill(pid);
	}
	assert_true(listening);
	return pid;
}

struct fx_origin {
	uv_loop_t loop;
	uv_async_t async;
	uv_thread_t thread;
	uv_sem_t done;
	oa_test_origin_opts opts;
	oa_test_origin *origin;
	int start_rc;
	oa_error err;
	unsigned port;
	/* What the async callback runs on the loop thread, and what it reports back. */
	bool stop;
	size_t connections;
	int loop_close_rc;
};

static void on_async_closed(uv_handle_t *handle)
{
}

static void on_async(uv_async_t *async)
{
	fx_origin *bg = async->data;

	bg->connections = oa_test_origin_connections(bg->origin);
	if (bg->stop) {
		oa_test_origin_destroy(bg->origin);
		bg->origin = NULL;
		uv_close((uv_handle_t *)&bg->async, on_async_closed);
	}
	uv_sem_post(&bg->done);
}

static void origin_main(void *arg)
{
	fx_origin *bg = arg;

	bg->start_rc = oa_test_origin_start(&bg->loop, &bg->opts, &bg->origin, &bg->err);
	if (bg->start_rc == 0) {
		bg->port = oa_test_origin_port(bg->origin);
	} else {
		uv_close((uv_handle_t *)&bg->async, on_async_closed);
	}
	uv_sem_post(&bg->done);
	uv_run(&bg->loop, UV_RUN_DEFAULT);
	bg->loop_close_rc = uv_loop_close(&bg->loop);
}

/*
 * Heap-allocated so a failed assertion, which abandons the thread, leaves it
 * valid memory.
 */
fx_origin *fx_origin_start(const oa_test_origin_opts *opts, oa_error *err)
{
	fx_origin *bg = calloc(1, sizeof(*bg));

	assert_non_null(bg);
	bg->opts = *opts;
	assert_int_equal(uv_loop_init(&bg->loop), 0);
	assert_int_equal(uv_async_init(&bg->loop, &bg->async, on_async), 0);
	bg->async.data = bg;
	assert_int_equal(uv_sem_init(&bg->done, 0), 0);
	assert_int_equal(uv_thread_create(&bg->thread, origin_main, bg), 0);
	uv_sem_wait(&bg->done);
	if (bg->start_rc < 0) {
		*err = bg->err;
		assert_int_equal(uv_thread_join(&bg->thread), 0);
		uv_sem_destroy(&bg->done);
		free(bg);
		return NULL;
	}
	return bg;
}

unsigned fx_origin_port(const fx_origin *origin)
{
	return origin->port;
}

size_t fx_origin_connections(fx_origin *origin)
{
	uv_async_send(&origin->async);
	uv_sem_wait(&origin->done);
	return origin->connections;
}

void fx_origin_wait_connections(fx_origin *origin, size_t n)
{
	for (int i = 0; i < 500 && fx_origin_connections(origin) < n; i++) {
		usleep(10000);
	}
	assert_int_equal(fx_origin_connections(origin), n);
}

int fx_origin_stop(fx_origin *origin, size_t *connections)
{
	int loop_close_rc;

	origin->stop = true;
	uv_async_send(&origin->async);
	uv_sem_wait(&origin->done);
	assert_int_equal(uv_thread_join(&origin->thread), 0);
	uv_sem_destroy(&origin->done);
	if (connections != NULL) {
		*connections = origin->connections;
	}
	loop_close_rc = origin->loop_close_rc;
	free(origin);
	return loop_close_rc;
}

static void on_probe_done(oa_probe *probe, void *data)
{
	*(bool *)data = true;
}

void fx_probe_run(fx_probed *pr, const oa_probe_spec *spec, const oa_trust_store *store)
{
	bool done = false;

	assert_int_equal(uv_loop_init(&pr->loop), 0);
	assert_int_equal(oa_probe_start(&pr->loop, spec, store, on_probe_done, &done, &pr->probe),
			 0);
	while (!done) {
		uv_run(&pr->loop, UV_RUN_ONCE);
	}
	pr->r = oa_probe_get_result(pr->probe);
}

void fx_probed_free(fx_probed *pr)
{
	oa_probe_destroy(pr->probe);
	uv_run(&pr->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&pr->loop), 0);
}

void fx_assert_detail(const oa_result *r, oa_check_id id, const char *needle)
{
	const oa_check *c = oa_result_check(r, id);

	if (c->detail == NULL || strstr(c->detail, needle) == NULL) {
		fail_msg("%s detail '%s' lacks '%s'", oa_check_name(id),
			 c->detail ? c->detail : "(none)", needle);
	}
}

void fx_assert_check(const oa_result *r, oa_check_id id, oa_status status, const char *reason)
{
	const oa_check *c;

	assert_non_null(r);
	c = oa_result_check(r, id);
	if (!c->present || c->status != status || strcmp(c->reason, reason) != 0) {
		fail_msg("%s: got %s/%s (%s), want %s/%s", oa_check_name(id),
			 oa_status_name(c->status), c->reason, c->detail, oa_status_name(status),
			 reason);
	}
}

/* Grades certs (wire order) against a store holding only the given roots. */
const oa_result *fx_grade_at(fx_grading *g, const oa_pki_cert *const *certs, size_t n,
			     const oa_pki_cert *const *roots, size_t n_roots,
			     const char *const *names, size_t n_names, time_t at, const oa_key *key)
{
	gnutls_datum_t der[128];
	oa_verify_params params;
	oa_error err;

	assert_true(n <= 128);
	g->dir = fx_tempdir();
	char *bundle = fx_chain_file(g->dir, "roots.pem", roots, n_roots);
	if (oa_trust_store_load(bundle, &g->store, &err) < 0) {
		fail_msg("trust store: %s", err.msg);
	}
	free(bundle);
	for (size_t i = 0; i < n; i++) {
		der[i] = *oa_pki_cert_der(certs[i]);
	}
	if (oa_chain_from_der(der, n, &g->chain, &err) < 0) {
		fail_msg("chain: %s", err.msg);
	}
	oa_verify_params_init(&params);
	params.names = names;
	params.n_names = n_names;
	params.at = at;
	params.key = key;
	if (oa_verify(g->chain, g->store, &params, &g->result, &err) < 0) {
		fail_msg("oa_verify: %s", err.msg);
	}
	return g->result;
}

void fx_grading_free(fx_grading *g)
{
	oa_result_destroy(g->result);
	oa_chain_destroy(g->chain);
	oa_trust_store_destroy(g->store);
	fx_tempdir_remove(g->dir);
	memset(g, 0, sizeof(*g));
}

void fx_origin_init(oa_origin_config *o, const char *id, const char *domain,
		    oa_origin_protocol_policy policy)
{
	memset(o, 0, sizeof(*o));
	o->id = (char *)id;
	o->domain_name = (char *)domain;
	o->origin_path = (char *)"";
	o->https_port = 443;
	o->http_port = 80;
	o->protocol_policy = policy;
	o->ssl_protocols = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;
	o->connection_timeout_s = 10;
	o->connection_attempts = 3;
	o->read_timeout_s = 30;
	o->keepalive_timeout_s = 5;
}

void fx_probe_spec_init(oa_probe_spec *spec, oa_probe_kind kind, const char *address, unsigned port,
			const char *sni, const char *const *names, unsigned timeout_ms)
{
	memset(spec, 0, sizeof(*spec));
	spec->kind = kind;
	spec->address = address;
	spec->port = port;
	spec->sni = sni;
	spec->names = names;
	spec->n_names = names != NULL ? 1 : 0;
	spec->ssl_protocols = OA_PROTO_TLS1_2 | OA_PROTO_TLS1_3;
	spec->connect_timeout_ms = timeout_ms;
	spec->handshake_timeout_ms = timeout_ms;
	spec->at = time(NULL);
	spec->policy.warn_days = OA_POLICY_DEFAULT_WARN_DAYS;
	spec->policy.critical_days = OA_POLICY_DEFAULT_CRITICAL_DAYS;
}

unsigned fx_test_origin_start(uv_loop_t *loop, oa_test_origin **slot, oa_test_origin_mode mode,
			      const oa_pki_cert *const *chain, size_t n)
{
	oa_test_origin_opts opts;
	gnutls_datum_t pem = {NULL, 0};
	oa_error err;

	memset(&opts, 0, sizeof(opts));
	opts.mode = mode;
	opts.address = "127.0.0.1";
	if (mode == OA_TEST_ORIGIN_TLS) {
		pem = fx_pem_concat(chain, n);
		opts.chain_pem = &pem;
		opts.key_pem = oa_pki_key_pem(chain[0]);
	}
	if (oa_test_origin_start(loop, &opts, slot, &err) < 0) {
		fail_msg("test origin: %s", err.msg);
	}
	free(pem.data);
	return oa_test_origin_port(*slot);
}

void fx_report_finish(oa_scan_report *r)
{
	r->verdict = OA_STATUS_PASS;
	r->n_probes = 0;
	memset(r->counts, 0, sizeof(r->counts));
	for (size_t i = 0; i < r->n_origins; i++) {
		oa_scan_origin *so = &r->origins[i];

		if (so->skipped != NULL) {
			so->verdict = OA_STATUS_SKIP;
			r->counts[OA_STATUS_SKIP]++;
			continue;
		}
		so->verdict = OA_STATUS_PASS;
		for (size_t j = 0; j < so->n_probes; j++) {
			so->verdict = oa_status_worst(so->verdict,
						      oa_probe_get_result(so->probes[j])->verdict);
		}
		r->n_probes += so->n_probes;
		r->counts[so->verdict]++;
		r->verdict = oa_status_worst(r->verdict, so->verdict);
	}
}
