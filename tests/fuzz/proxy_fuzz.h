/*
 * The libFuzzer harness shared by fuzz_viewer_request and fuzz_origin_response:
 * one real px_server (configuration loaded by px_gen_load, cache, access log,
 * shared counters) on one libuv loop, kept across inputs. Viewers are adopted
 * sockets (px_viewer_adopt) whose other end the harness writes; every origin
 * connection adopts a socket (srv->origin_socket) whose other end the harness
 * reads, parses as a request with strict llhttp, and answers. The harness's
 * ends are watched by uv_poll handles on the same loop. No TCP port is ever
 * bound or connected to.
 *
 * Oracles besides the sanitizers (each an abort naming what went wrong):
 *  - what reaches an origin parses as HTTP/1.1 requests with strict llhttp,
 *    and no byte follows a complete request before it was answered;
 *  - after a "400 bad_framing" the viewer connection is closed and nothing
 *    more reaches an origin (RFC 9112 6.3; README "Bad requests never reach
 *    an origin"), where the target enables it (pf_framing_oracle);
 *  - the proxy settles (no endless loop turns), and once both peers are gone
 *    every viewer, origin connection and handle is closed and freed.
 */
#ifndef ORIGINAUDIT_FUZZ_PROXY_FUZZ_H
#define ORIGINAUDIT_FUZZ_PROXY_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy.h"

/* The harness's end of one socket: a viewer's or an origin's. */
typedef struct pf_peer {
	/* -1 once the harness closed its end. */
	int fd;
	/* Readability is watched on the proxy's own loop: one epoll_wait serves both. */
	uv_poll_t poll;
	bool origin;
	/* The proxy closed its side (read returned 0 or an error). */
	bool eof;
	/* Origins: the request parser, and what the last complete request was. */
	llhttp_t parser;
	bool head_request;
	size_t requests;
	/* Viewers: the tail of what came before, to find a marker across reads. */
	char tail[128];
	size_t tail_len;
} pf_peer;

/* What the harness does with each complete request an origin receives. */
typedef void (*pf_answer_fn)(pf_peer *origin);

extern px_server pf_srv;
/*
 * Set by a target whose viewers only ever get bytes the proxy made or fixed
 * answers: the bad_framing oracle looks for the proxy's 400 in what they get
 * (an origin's fuzzed body could carry the same bytes).
 */
extern bool pf_framing_oracle;
/* Set by the target: called for each complete request at an origin (NULL: no answer). */
extern pf_answer_fn pf_answer;
/*
 * Set by the target: sees every byte the proxy sends to a viewer, then
 * (data NULL) the end of the connection. May be NULL.
 */
extern void (*pf_viewer_data)(pf_peer *viewer, const char *data, size_t len);

/* Once per process: loop, configuration, server. Quiet stderr unless OA_FUZZ_VERBOSE. */
void pf_init(void);

/* Reports an oracle's failure on the real stderr and aborts. */
void pf_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* A new viewer connection adopted by the proxy; the harness keeps the returned peer. */
pf_peer *pf_viewer_open(void);

/* The origin connections opened during this input, in order. */
size_t pf_origin_count(void);
pf_peer *pf_origin_get(size_t i);

/*
 * Writes data to p in pieces (split 0: one piece; else sizes from a small
 * generator seeded by split, at most 2 << (split & 7) bytes each), the loop
 * turning once after each so that the proxy reads each piece on its own,
 * then runs the loop until nothing moves (pf_pump). Stops writing early when
 * the proxy stops reading or has closed the connection.
 */
void pf_send(pf_peer *p, const uint8_t *data, size_t len, uint8_t split);

/* Writes all of data (the harness's own answers: small); false when the proxy is gone. */
bool pf_write_all(pf_peer *p, const void *data, size_t len);

/* Closes the harness's end of p (the proxy sees the connection end). */
void pf_close(pf_peer *p);

/* Runs the loop and the harness's peers until nothing moves. */
void pf_pump(void);

/* Closes both peers, waits until the proxy has freed everything, resets per-input state. */
void pf_end(void);

#endif
