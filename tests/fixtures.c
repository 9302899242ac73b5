/* Shared helpers for the tests: temporary directories, PKIs, child processes. */
#include <arpa/inet.h>
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
