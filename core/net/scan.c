/*
 * The scan engine: expands the configuration into probes the way CloudFront
 * would connect (every address, every SNI name), resolves names through
 * libuv, and keeps at most `concurrency` probes and lookups in flight. It
 * only ever reacts to the loop's callbacks, so it runs as well on a loop
 * that is already running (oa_scan_start) as on one it runs itself
 * (oa_scan_run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "originaudit/scan.h"

struct target {
	size_t origin;
	oa_probe_spec spec;
	char address[INET6_ADDRSTRLEN];
	const char *names[2];
	oa_probe *probe;
};

struct scan_state;

struct lookup {
	uv_getaddrinfo_t req;
	struct scan_state *st;
	size_t origin;
};

/* How the behaviours use one origin (bits of scan_state.origin_use). */
enum {
	ORIGIN_USED = 1,
	/* A behaviour sends the origin's own name. */
	ORIGIN_PLAIN = 2,
	/* A behaviour forwards the viewer's Host header. */
	ORIGIN_FORWARD = 4,
};

/* The SNI names of one origin, computed from the behaviours that use it. */
struct sni_entry {
	const char *sni;
	const char *names[2];
	size_t n_names;
};

struct scan_state {
	uv_loop_t *loop;
	/*
	 * The distributions scanned (a copy of the caller's array); their
	 * origins numbered in order, one after the other.
	 */
	const oa_config **configs;
	size_t n_configs;
	/* By origin number: its configuration and the configuration's index. */
	const oa_origin_config **origins;
	size_t *origin_config;
	size_t n_origins;
	/* By origin number: its place in the report, or SIZE_MAX when opts.select left it out. */
	size_t *report_index;
	size_t n_selected;
	const oa_trust_store *store;
	oa_scan_options opts;
	oa_scan_done_cb done_cb;
	void *done_data;
	/*
	 * Delivers the report from a callback of its own, so done_cb is never
	 * called from inside oa_scan_start or a probe's callback. The state is
	 * freed from its close callback.
	 */
	uv_timer_t deliver;
	bool delivering;
	/* Being filled in; handed to done_cb. */
	oa_scan_report *report;
	uint64_t start_ns;
	struct target *targets;
	size_t n_targets;
	size_t cap_targets;
	size_t next_target;
	size_t next_lookup;
	size_t *lookups;
	size_t n_lookups;
	size_t in_flight;
	size_t finished;
	int error;
	/*
	 * Computed once before planning, so planning an origin does not walk
	 * every behaviour and alias (which made it quadratic in the number of
	 * origins): ORIGIN_* bits per origin, and the aliases a viewer can send.
	 */
	unsigned char *origin_use;
	/* The aliases of every configuration, those of configuration c from alias_start[c] on. */
	const char **sni_aliases;
	size_t *alias_start;
	size_t *alias_count;
};

void oa_scan_options_from_config(oa_scan_options *opts, const oa_config *config)
{
	memset(opts, 0, sizeof(*opts));
	opts->concurrency = config->scan.concurrency;
	opts->connect_timeout_ms = config->scan.connect_timeout_ms;
	opts->handshake_timeout_ms = config->scan.handshake_timeout_ms;
	opts->at = time(NULL);
	opts->policy.warn_days = config->scan.expiry_warn_days;
	opts->policy.critical_days = config->scan.expiry_critical_days;
	opts->policy.warn_percent = config->scan.expiry_warn_percent;
	opts->policy.critical_percent = config->scan.expiry_critical_percent;
}

/* The scan's expiry policy with origin's own thresholds where it sets them. */
static void origin_policy(const oa_origin_config *o, oa_policy *policy)
{
	if (o->has_expiry_warn) {
		policy->warn_days = o->expiry_warn_days;
		policy->warn_percent = o->expiry_warn_percent;
	}
	if (o->has_expiry_critical) {
		policy->critical_days = o->expiry_critical_days;
		policy->critical_percent = o->expiry_critical_percent;
	}
}

/*
 * Numbers the origins of every configuration and fills origin_use and the
 * aliases: a behaviour's origin and an alias count for their own
 * distribution only. 0 or -ENOMEM.
 */
static int plan_index(struct scan_state *st)
{
	size_t n_aliases = 0;
	size_t n = 0;

	for (size_t c = 0; c < st->n_configs; c++) {
		st->n_origins += st->configs[c]->n_origins;
		n_aliases += st->configs[c]->n_aliases;
	}
	st->origins = calloc(st->n_origins ? st->n_origins : 1, sizeof(*st->origins));
	st->origin_config = calloc(st->n_origins ? st->n_origins : 1, sizeof(*st->origin_config));
	st->origin_use = calloc(st->n_origins ? st->n_origins : 1, 1);
	st->sni_aliases = calloc(n_aliases ? n_aliases : 1, sizeof(*st->sni_aliases));
	st->alias_start = calloc(st->n_configs ? st->n_configs : 1, sizeof(*st->alias_start));
	st->alias_count = calloc(st->n_configs ? st->n_configs : 1, sizeof(*st->alias_count));
	st->report_index = calloc(st->n_origins ? st->n_origins : 1, sizeof(*st->report_index));
	if (st->origins == NULL || st->origin_config == NULL || st->origin_use == NULL ||
	    st->sni_aliases == NULL || st->alias_start == NULL || st->alias_count == NULL ||
	    st->report_index == NULL) {
		return -ENOMEM;
	}
	n_aliases = 0;
	for (size_t c = 0; c < st->n_configs; c++) {
		const oa_config *config = st->configs[c];
		size_t base = n;

		for (size_t i = 0; i < config->n_origins; i++, n++) {
			st->origins[n] = &config->origins[i];
			st->origin_config[n] = c;
			if (st->opts.select != NULL &&
			    !st->opts.select(config, &config->origins[i], st->opts.select_data)) {
				st->report_index[n] = SIZE_MAX;
			} else {
				st->report_index[n] = st->n_selected++;
			}
		}
		for (size_t i = 0; i < config->n_behaviors + 1; i++) {
			const oa_behavior_config *b = i < config->n_behaviors
							  ? &config->behaviors[i]
							  : &config->default_behavior;

			if (i == config->n_behaviors && !config->has_default_behavior) {
				break;
			}
			unsigned use =
			    ORIGIN_USED | (b->forward_host_header ? ORIGIN_FORWARD : ORIGIN_PLAIN);
			if (b->origin_index < config->n_origins) {
				st->origin_use[base + b->origin_index] |= use;
			}
			/* A failover member of an origin group gets the same requests as the
			 * primary. */
			for (size_t m = 0; m < b->n_group_members; m++) {
				if (b->group_members[m] < config->n_origins) {
					st->origin_use[base + b->group_members[m]] |= use;
				}
			}
		}
		st->alias_start[c] = n_aliases;
		for (size_t a = 0; a < config->n_aliases; a++) {
			/* A wildcard alias is no host name a viewer sends: nothing to probe. */
			if (strncmp(config->aliases[a], "*.", 2) != 0) {
				st->sni_aliases[n_aliases++] = config->aliases[a];
			}
		}
		st->alias_count[c] = n_aliases - st->alias_start[c];
	}
	return 0;
}

static void free_plan(struct scan_state *st)
{
	free(st->configs);
	free(st->origins);
	free(st->origin_config);
	free(st->origin_use);
	free(st->sni_aliases);
	free(st->alias_start);
	free(st->alias_count);
	free(st->report_index);
}

static size_t sni_entries(const struct scan_state *st, size_t origin, struct sni_entry *out,
			  size_t max)
{
	const oa_origin_config *o = st->origins[origin];
	unsigned use = st->origin_use[origin];
	bool forward = (use & ORIGIN_FORWARD) != 0;
	const char *const *aliases = st->sni_aliases + st->alias_start[st->origin_config[origin]];
	size_t n_aliases = st->alias_count[st->origin_config[origin]];
	size_t n = 0;

	/*
	 * An origin no behaviour names is still probed, as CloudFront would reach
	 * it; so is one whose Host-forwarding behaviours have no alias to send.
	 */
	if (!(use & ORIGIN_USED) || (use & ORIGIN_PLAIN) || (forward && n_aliases == 0)) {
		out[n].sni = o->domain_name;
		out[n].names[0] = o->domain_name;
		out[n].n_names = 1;
		n++;
	}
	if (forward) {
		for (size_t a = 0; a < n_aliases && n < max; a++) {
			out[n].sni = aliases[a];
			out[n].names[0] = o->domain_name;
			out[n].names[1] = aliases[a];
			out[n].n_names = 2;
			n++;
		}
	}
	return n;
}

static struct target *add_target(struct scan_state *st)
{
	if (st->n_targets == st->cap_targets) {
		size_t cap = st->cap_targets ? st->cap_targets * 2 : 64;
		struct target *t = realloc(st->targets, cap * sizeof(*t));

		if (t == NULL) {
			st->error = -ENOMEM;
			return NULL;
		}
		st->targets = t;
		st->cap_targets = cap;
	}
	struct target *t = &st->targets[st->n_targets];
	memset(t, 0, sizeof(*t));
	st->n_targets++;
	return t;
}

static void base_spec(struct scan_state *st, oa_probe_spec *spec)
{
	spec->connect_timeout_ms = st->opts.connect_timeout_ms;
	spec->handshake_timeout_ms = st->opts.handshake_timeout_ms;
	spec->enumerate_protocols = st->opts.enumerate_protocols;
	spec->at = st->opts.at;
	spec->policy = st->opts.policy;
}

/* A new probe target of one origin at one address; NULL when out of memory. */
static struct target *address_target(struct scan_state *st, size_t origin, const char *address,
				     oa_probe_kind kind, unsigned port)
{
	struct target *t = add_target(st);

	if (t == NULL) {
		return NULL;
	}
	t->origin = origin;
	snprintf(t->address, sizeof(t->address), "%s", address);
	base_spec(st, &t->spec);
	origin_policy(st->origins[origin], &t->spec.policy);
	t->spec.kind = kind;
	t->spec.port = port;
	return t;
}

/*
 * Whether CloudFront would connect to this address of the origin: its
 * ip_address_type allows the address's family (textual: an IPv6 literal has a ':').
 */
static bool family_allowed(const oa_origin_config *o, const char *address)
{
	bool v6 = strchr(address, ':') != NULL;

	switch (o->ip_address_type) {
	case OA_IP_IPV4:
		return !v6;
	case OA_IP_IPV6:
		return v6;
	case OA_IP_DUALSTACK:
		break;
	}
	return true;
}

/* "A", "AAAA" or "A or AAAA": the records an origin's ip_address_type lets CloudFront use. */
static const char *records_wanted(const oa_origin_config *o)
{
	switch (o->ip_address_type) {
	case OA_IP_IPV4:
		return "A";
	case OA_IP_IPV6:
		return "AAAA";
	case OA_IP_DUALSTACK:
		break;
	}
	return "A or AAAA";
}

/* Adds the probes of one origin at one address. */
static void add_address(struct scan_state *st, size_t origin, const char *address)
{
	const oa_origin_config *o = st->origins[origin];
	struct sni_entry entries[64];
	size_t n = sni_entries(st, origin, entries, 64);

	if (o->protocol_policy != OA_ORIGIN_HTTP_ONLY) {
		for (size_t i = 0; i < n; i++) {
			struct target *t =
			    address_target(st, origin, address, OA_PROBE_HTTPS, o->https_port);

			if (t == NULL) {
				return;
			}
			t->spec.sni = entries[i].sni;
			t->names[0] = entries[i].names[0];
			t->names[1] = entries[i].names[1];
			t->spec.n_names = entries[i].n_names;
			t->spec.ssl_protocols = o->ssl_protocols;
		}
	}
	if (o->protocol_policy != OA_ORIGIN_HTTPS_ONLY) {
		struct target *t = address_target(st, origin, address, OA_PROBE_HTTP, o->http_port);

		if (t != NULL) {
			t->spec.http_only = o->protocol_policy == OA_ORIGIN_HTTP_ONLY;
		}
	}
}

static void pump(struct scan_state *st);
static void finish_if_done(struct scan_state *st);

static void on_probe_done(oa_probe *probe, void *data)
{
	struct scan_state *st = data;

	st->in_flight--;
	st->finished++;
	if (st->opts.progress != NULL) {
		st->opts.progress(st->finished, st->n_targets, st->opts.progress_data);
	}
	pump(st);
	finish_if_done(st);
}

static void fail_origin(struct scan_state *st, size_t origin, const char *error, const char *detail)
{
	const oa_origin_config *o = st->origins[origin];
	struct target *t = add_target(st);

	if (t == NULL) {
		return;
	}
	t->origin = origin;
	base_spec(st, &t->spec);
	origin_policy(o, &t->spec.policy);
	t->spec.kind = o->protocol_policy == OA_ORIGIN_HTTP_ONLY ? OA_PROBE_HTTP : OA_PROBE_HTTPS;
	t->spec.port = t->spec.kind == OA_PROBE_HTTP ? o->http_port : o->https_port;
	t->spec.sni = t->spec.kind == OA_PROBE_HTTPS ? o->domain_name : NULL;
	t->names[0] = o->domain_name;
	t->spec.n_names = 1;
	t->spec.names = t->names;
	if (oa_probe_new_failed(&t->spec, error, detail, &t->probe) < 0) {
		st->error = -ENOMEM;
		return;
	}
	/* Already finished: pump skips it. */
	st->finished++;
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct lookup *l = req->data;
	struct scan_state *st = l->st;
	const oa_origin_config *o = st->origins[l->origin];
	char seen[16][INET6_ADDRSTRLEN];
	size_t n_seen = 0;
	size_t n_other_family = 0;

	st->in_flight--;
	if (status == 0) {
		for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
			char addr[INET6_ADDRSTRLEN];
			bool dup = false;

			if (uv_ip_name(ai->ai_addr, addr, sizeof(addr)) != 0) {
				continue;
			}
			/*
			 * Both families are asked for and the other one is left out
			 * here, so the report can say what the name had instead.
			 */
			if (!family_allowed(o, addr)) {
				n_other_family++;
				continue;
			}
			for (size_t i = 0; i < n_seen; i++) {
				dup = dup || strcmp(seen[i], addr) == 0;
			}
			if (dup || n_seen == 16) {
				continue;
			}
			snprintf(seen[n_seen], sizeof(seen[n_seen]), "%s", addr);
			n_seen++;
			add_address(st, l->origin, addr);
		}
	}
	if (n_seen == 0) {
		char detail[512];
		char why[160];

		if (status < 0) {
			snprintf(why, sizeof(why), "%s", uv_strerror(status));
		} else if (n_other_family > 0) {
			snprintf(
			    why, sizeof(why),
			    "no %s record (ip_address_type %s; the name has only %s addresses)",
			    records_wanted(o), oa_ip_address_type_name(o->ip_address_type),
			    o->ip_address_type == OA_IP_IPV6 ? "IPv4" : "IPv6");
		} else {
			snprintf(why, sizeof(why), "no %s record", records_wanted(o));
		}
		snprintf(detail, sizeof(detail), "cannot resolve %s: %s%s", o->domain_name, why,
			 o->vpc ? "; a VPC origin resolves only inside its VPC: scan from there"
				: "");
		fail_origin(st, l->origin, "dns_failed", detail);
	}
	uv_freeaddrinfo(res);
	free(l);
	pump(st);
	finish_if_done(st);
}

static void start_lookup(struct scan_state *st, size_t origin)
{
	struct lookup *l = calloc(1, sizeof(*l));
	struct addrinfo hints;

	if (l == NULL) {
		st->error = -ENOMEM;
		return;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	l->st = st;
	l->origin = origin;
	l->req.data = l;
	st->in_flight++;
	int rc = uv_getaddrinfo(st->loop, &l->req, on_resolved, st->origins[origin]->domain_name,
				NULL, &hints);
	if (rc < 0) {
		st->in_flight--;
		free(l);
		fail_origin(st, origin, "dns_failed", uv_strerror(rc));
	}
}

static void pump(struct scan_state *st)
{
	unsigned limit = st->opts.concurrency ? st->opts.concurrency : 64;

	while (st->in_flight < limit && st->error == 0) {
		if (st->next_target < st->n_targets) {
			struct target *t = &st->targets[st->next_target];

			st->next_target++;
			if (t->probe != NULL) {
				continue;
			}
			t->spec.address = t->address;
			t->spec.names = t->names;
			int rc = oa_probe_start(st->loop, &t->spec, st->store, on_probe_done, st,
						&t->probe);
			if (rc < 0) {
				char detail[128];

				snprintf(detail, sizeof(detail), "cannot start the probe: %s",
					 strerror(-rc));
				t->spec.address = t->address;
				if (oa_probe_new_failed(&t->spec, "network_error", detail,
							&t->probe) < 0) {
					st->error = -ENOMEM;
					return;
				}
				st->finished++;
				continue;
			}
			st->in_flight++;
			continue;
		}
		if (st->next_lookup < st->n_lookups) {
			start_lookup(st, st->lookups[st->next_lookup]);
			st->next_lookup++;
			continue;
		}
		break;
	}
}

/*
 * After an error nothing new starts, but what is in flight (lookups hold a
 * pointer to the state) is waited for: every probe and lookup ends within its
 * timeouts.
 */
static bool all_done(const struct scan_state *st)
{
	return st->in_flight == 0 && (st->error != 0 || (st->next_lookup == st->n_lookups &&
							 st->next_target == st->n_targets));
}

/*
 * Hands each finished probe to its origin, in target order, so an origin's
 * probes keep the order they were planned in. Two passes over the targets
 * (count, then place) instead of one pass per origin.
 */
static int place_probes(struct scan_state *st, oa_scan_report *r)
{
	int rc = 0;

	for (size_t t = 0; t < st->n_targets; t++) {
		if (st->targets[t].probe != NULL) {
			r->origins[st->report_index[st->targets[t].origin]].n_probes++;
		}
	}
	for (size_t i = 0; i < r->n_origins; i++) {
		oa_scan_origin *so = &r->origins[i];
		size_t count = so->n_probes;

		/* n_probes counts what probes holds, also when this fails half-way. */
		so->n_probes = 0;
		if (rc == 0) {
			so->probes = calloc(count ? count : 1, sizeof(*so->probes));
			rc = so->probes == NULL ? -ENOMEM : 0;
		}
	}
	if (rc < 0) {
		return rc;
	}
	for (size_t t = 0; t < st->n_targets; t++) {
		struct target *tg = &st->targets[t];
		oa_scan_origin *so = &r->origins[st->report_index[tg->origin]];

		/* An S3 origin is not probed; what it has stays with the targets. */
		if (tg->probe == NULL || so->config->s3 || so->config->unresolved != NULL) {
			continue;
		}
		so->probes[so->n_probes] = tg->probe;
		so->n_probes++;
		tg->probe = NULL;
	}
	return 0;
}

/* The origin's key in the report: its id, qualified by its distribution among several. */
static int origin_key(const struct scan_state *st, size_t origin, char **out)
{
	const oa_config *config = st->configs[st->origin_config[origin]];
	const char *id = st->origins[origin]->id;

	if (st->n_configs > 1 && config->distribution != NULL) {
		size_t len = strlen(config->distribution) + strlen(id) + 2;

		*out = malloc(len);
		if (*out != NULL) {
			snprintf(*out, len, "%s/%s", config->distribution, id);
		}
	} else {
		*out = strdup(id);
	}
	return *out == NULL ? -ENOMEM : 0;
}

static int build_report(struct scan_state *st, oa_scan_report *r)
{
	r->origins = calloc(st->n_selected ? st->n_selected : 1, sizeof(*r->origins));
	if (r->origins == NULL) {
		return -ENOMEM;
	}
	r->n_origins = st->n_selected;
	r->verdict = OA_STATUS_PASS;
	for (size_t i = 0; i < st->n_origins; i++) {
		if (st->report_index[i] == SIZE_MAX) {
			continue;
		}
		oa_scan_origin *so = &r->origins[st->report_index[i]];
		const oa_origin_config *o = st->origins[i];

		so->config = o;
		so->distribution = st->configs[st->origin_config[i]]->distribution;
		so->port = o->protocol_policy == OA_ORIGIN_HTTP_ONLY ? o->http_port : o->https_port;
		if (origin_key(st, i, &so->id) < 0) {
			return -ENOMEM;
		}
	}
	int rc = place_probes(st, r);
	if (rc < 0) {
		return rc;
	}
	for (size_t i = 0; i < r->n_origins; i++) {
		oa_scan_origin *so = &r->origins[i];

		if (so->config->s3 || so->config->unresolved != NULL) {
			so->skipped = so->config->s3 ? "s3_origin"
				      : so->config->unresolved_reason != NULL
					  ? so->config->unresolved_reason
					  : "unresolved_value";
			so->verdict = OA_STATUS_SKIP;
			r->counts[OA_STATUS_SKIP]++;
			continue;
		}
		so->verdict = OA_STATUS_PASS;
		for (size_t p = 0; p < so->n_probes; p++) {
			so->verdict = oa_status_worst(so->verdict,
						      oa_probe_get_result(so->probes[p])->verdict);
		}
		r->n_probes += so->n_probes;
		r->counts[so->verdict]++;
		r->verdict = oa_status_worst(r->verdict, so->verdict);
	}
	return 0;
}

static void on_state_closed(uv_handle_t *handle)
{
	free(handle->data);
}

static void on_deliver(uv_timer_t *timer)
{
	struct scan_state *st = timer->data;
	oa_scan_report *r = st->report;
	oa_scan_done_cb done_cb = st->done_cb;
	void *done_data = st->done_data;
	int rc = st->error;

	st->report = NULL;
	if (rc == 0) {
		rc = build_report(st, r);
	}
	for (size_t t = 0; t < st->n_targets; t++) {
		oa_probe_destroy(st->targets[t].probe);
	}
	free(st->targets);
	free(st->lookups);
	free_plan(st);
	if (rc < 0) {
		oa_scan_report_destroy(r);
		r = NULL;
	}
	uv_close((uv_handle_t *)&st->deliver, on_state_closed);
	done_cb(r, rc, done_data);
}

/* Once nothing is left to do, the report is delivered on the loop's next turn. */
static void finish_if_done(struct scan_state *st)
{
	if (st->delivering || !all_done(st)) {
		return;
	}
	st->delivering = true;
	st->report->finished_at = time(NULL);
	st->report->duration_s = (double)(uv_hrtime() - st->start_ns) / 1e9;
	uv_timer_start(&st->deliver, on_deliver, 0, 0);
}

/*
 * The configured addresses of an origin. The loader refuses one of a family
 * ip_address_type excludes; a configuration built in code may still hold
 * one, and it is left out as CloudFront would.
 */
static void add_addresses(struct scan_state *st, size_t origin)
{
	const oa_origin_config *o = st->origins[origin];
	size_t added = 0;

	for (size_t a = 0; a < o->n_addresses; a++) {
		if (family_allowed(o, o->addresses[a])) {
			add_address(st, origin, o->addresses[a]);
			added++;
		}
	}
	if (added == 0) {
		char detail[256];

		snprintf(detail, sizeof(detail), "no address of %s is %s (ip_address_type %s)",
			 o->domain_name, o->ip_address_type == OA_IP_IPV6 ? "IPv6" : "IPv4",
			 oa_ip_address_type_name(o->ip_address_type));
		fail_origin(st, origin, "dns_failed", detail);
	}
}

int oa_scan_start_many(uv_loop_t *loop, const oa_config *const *configs, size_t n_configs,
		       const oa_trust_store *store, const oa_scan_options *opts, oa_scan_done_cb cb,
		       void *data)
{
	struct scan_state *st = calloc(1, sizeof(*st));
	int rc = -ENOMEM;

	if (st == NULL) {
		return -ENOMEM;
	}
	st->report = calloc(1, sizeof(*st->report));
	if (st->report == NULL) {
		goto fail_state;
	}
	st->configs = calloc(n_configs ? n_configs : 1, sizeof(*st->configs));
	if (st->configs == NULL) {
		goto fail_plan;
	}
	memcpy(st->configs, configs, n_configs * sizeof(*configs));
	st->n_configs = n_configs;
	st->opts = *opts;
	rc = plan_index(st);
	if (rc < 0) {
		goto fail_plan;
	}
	rc = -ENOMEM;
	st->lookups = calloc(st->n_origins ? st->n_origins : 1, sizeof(*st->lookups));
	if (st->lookups == NULL) {
		goto fail_plan;
	}
	rc = uv_timer_init(loop, &st->deliver);
	if (rc < 0) {
		goto fail_plan;
	}
	st->deliver.data = st;
	st->loop = loop;
	st->store = store;
	st->done_cb = cb;
	st->done_data = data;
	st->report->config = n_configs > 0 ? configs[0] : NULL;
	st->report->n_distributions = n_configs;
	st->report->store = store;
	st->report->started_at = time(NULL);
	st->start_ns = uv_hrtime();
	for (size_t i = 0; i < st->n_origins && st->error == 0; i++) {
		const oa_origin_config *o = st->origins[i];

		if (o->s3 || o->unresolved != NULL || st->report_index[i] == SIZE_MAX) {
			continue;
		}
		if (o->n_addresses > 0) {
			add_addresses(st, i);
		} else {
			st->lookups[st->n_lookups] = i;
			st->n_lookups++;
		}
	}
	pump(st);
	finish_if_done(st);
	return 0;

fail_plan:
	free_plan(st);
	free(st->lookups);
	free(st->report);
fail_state:
	free(st);
	return rc;
}

int oa_scan_start(uv_loop_t *loop, const oa_config *config, const oa_trust_store *store,
		  const oa_scan_options *opts, oa_scan_done_cb cb, void *data)
{
	return oa_scan_start_many(loop, &config, 1, store, opts, cb, data);
}

struct run_wait {
	bool done;
	int status;
	oa_scan_report *report;
};

static void on_run_done(oa_scan_report *report, int status, void *data)
{
	struct run_wait *w = data;

	w->done = true;
	w->status = status;
	w->report = report;
}

int oa_scan_run(uv_loop_t *loop, const oa_config *config, const oa_trust_store *store,
		const oa_scan_options *opts, oa_scan_report **out)
{
	return oa_scan_run_many(loop, &config, 1, store, opts, out);
}

int oa_scan_run_many(uv_loop_t *loop, const oa_config *const *configs, size_t n_configs,
		     const oa_trust_store *store, const oa_scan_options *opts, oa_scan_report **out)
{
	struct run_wait w = {false, 0, NULL};
	int rc = oa_scan_start_many(loop, configs, n_configs, store, opts, on_run_done, &w);

	if (rc < 0) {
		return rc;
	}
	while (!w.done) {
		uv_run(loop, UV_RUN_ONCE);
	}
	if (w.status < 0) {
		return w.status;
	}
	*out = w.report;
	return 0;
}

void oa_scan_report_destroy(oa_scan_report *report)
{
	if (report == NULL) {
		return;
	}
	for (size_t i = 0; i < report->n_origins; i++) {
		for (size_t p = 0; p < report->origins[i].n_probes; p++) {
			oa_probe_destroy(report->origins[i].probes[p]);
		}
		free(report->origins[i].probes);
		free(report->origins[i].id);
	}
	free(report->origins);
	free(report);
}
