/*
 * A generation: one loaded configuration with its CA bundle, checked as a
 * whole (the listener certificates open). SIGHUP makes a new one; requests
 * keep a reference to the generation they started with, so a reload never
 * changes a request in flight.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proxy.h"

static int check_listeners(const oa_config *config, oa_error *err)
{
	for (size_t i = 0; i < config->proxy.n_listen; i++) {
		const oa_listen_config *l = &config->proxy.listen[i];
		gnutls_certificate_credentials_t cred;
		int rc;

		if (!l->tls) {
			continue;
		}
		if (gnutls_certificate_allocate_credentials(&cred) < 0) {
			return oa_error_set(err, -ENOMEM, "out of memory");
		}
		rc = gnutls_certificate_set_x509_key_file(cred, l->certificate, l->key,
							  GNUTLS_X509_FMT_PEM);
		gnutls_certificate_free_credentials(cred);
		if (rc < 0) {
			return oa_error_set(err, -EINVAL, "proxy.listen[%zu].tls: %s / %s: %s", i,
					    l->certificate, l->key, gnutls_strerror(rc));
		}
	}
	return 0;
}

/* The access log must be writable now, not found unwritable by a worker later. */
static int check_access_log(const oa_config *config, oa_error *err)
{
	const char *path = config->proxy.access_log;
	int fd;

	if (path == NULL || strcmp(path, "-") == 0) {
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		return oa_error_set(err, -errno, "proxy.access_log: %s: %s", path, strerror(errno));
	}
	close(fd);
	return 0;
}

int px_config_snapshot(const char *path, int *fd, oa_error *err)
{
	char buf[65536];
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int snap;

	*fd = -1;
	if (in < 0) {
		return oa_error_set(err, -errno, "%s: %s", path, strerror(errno));
	}
	snap = memfd_create("originaudit-config", MFD_CLOEXEC);
	if (snap < 0) {
		int rc = -errno;

		close(in);
		return oa_error_set(err, rc, "%s: snapshot: %s", path, strerror(-rc));
	}
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR) {
			continue;
		}
		if (n <= 0 || write(snap, buf, (size_t)n) != n) {
			int rc = n == 0 ? 0 : -(errno ? errno : EIO);

			close(in);
			if (rc < 0) {
				close(snap);
				return oa_error_set(err, rc, "%s: %s", path, strerror(-rc));
			}
			*fd = snap;
			return 0;
		}
	}
}

int px_gen_load(const char *path, int snapshot_fd, px_gen **out, oa_error *err)
{
	px_gen *gen = calloc(1, sizeof(*gen));
	int rc;

	*out = NULL;
	if (gen == NULL) {
		return oa_error_set(err, -ENOMEM, "out of memory");
	}
	gen->refs = 1;
	rc = snapshot_fd >= 0 ? oa_config_load_fd(snapshot_fd, path, &gen->config, err)
			      : oa_config_load_file(path, &gen->config, err);
	if (rc < 0) {
		goto fail;
	}
	if (!gen->config->proxy.present) {
		rc = oa_error_set(err, -EINVAL, "%s: proxy: missing the \"proxy\" block", path);
		goto fail;
	}
	const char *bundle =
	    gen->config->proxy.ca_bundle ? gen->config->proxy.ca_bundle : oa_default_ca_bundle();
	rc = oa_trust_store_load(bundle, &gen->store, err);
	if (rc < 0) {
		goto fail;
	}
	rc = check_listeners(gen->config, err);
	if (rc < 0) {
		goto fail;
	}
	rc = check_access_log(gen->config, err);
	if (rc < 0) {
		goto fail;
	}
	gen->origin_slots =
	    calloc(gen->config->n_origins ? gen->config->n_origins : 1, sizeof(*gen->origin_slots));
	if (gen->origin_slots == NULL) {
		rc = oa_error_set(err, -ENOMEM, "out of memory");
		goto fail;
	}
	*out = gen;
	return 0;
fail:
	px_gen_unref(gen);
	return rc;
}

px_gen *px_gen_ref(px_gen *gen)
{
	if (gen != NULL) {
		gen->refs++;
	}
	return gen;
}

void px_gen_unref(px_gen *gen)
{
	if (gen == NULL || --gen->refs > 0) {
		return;
	}
	free(gen->origin_slots);
	oa_trust_store_destroy(gen->store);
	oa_config_destroy(gen->config);
	free(gen);
}

int px_gen_origin_slot(const px_gen *gen, const oa_origin_config *origin)
{
	if (origin == NULL) {
		return 0;
	}
	return gen->origin_slots[origin - gen->config->origins];
}
