/*
 * libFuzzer target: bytes as a viewer sends them, through the real viewer
 * code path of originaudit-proxy: llhttp (strict), head collection, the
 * framing checks, Host normalisation, routing, the viewer protocol policy,
 * the cache lookup, the request built for the origin and its body framing,
 * pipelined requests and trailers; the origin (the harness, proxy_fuzz.h)
 * answers each request it gets with one fixed valid response.
 *
 * Input: byte 0 cuts the viewer's bytes into pieces (0: one piece, see
 * pf_send); byte 1 picks the origin's answer (bits 0-2, table below) and
 * whether the viewer half-closes after its last piece (bit 3 clear) or keeps
 * its side open until the end; the rest is what the viewer sends.
 */
#include <string.h>
#include <sys/socket.h>

#include "fuzz_common.h"
#include "proxy_fuzz.h"

typedef struct answer {
	const char *head;
	const char *body;
	/* The origin closes after it (the body, if any, goes until close). */
	bool close;
} answer;

static const answer answers[8] = {
    {"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nCache-Control: max-age=60\r\nETag: \"v1\"\r\n\r\n",
     "hello", false},
    {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nCache-Control: public, s-maxage=30\r\n"
     "Trailer: X-Digest\r\n\r\n",
     "5\r\nhello\r\n6\r\n world\r\n0\r\nX-Digest: abc\r\n\r\n", false},
    {"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nCache-Control: max-age=10\r\n\r\n",
     "not found", false},
    {"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n", "", false},
    {"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n", "until close", true},
    {"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n"
     "Connection: close\r\n\r\n",
     "ok", true},
    {"HTTP/1.1 204 No Content\r\nCache-Control: max-age=5\r\nSet-Cookie: a=b\r\n\r\n", "", false},
    {"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nRetry-After: 1\r\n"
     "Connection: keep-alive\r\n\r\n",
     "busy", false},
};

static const answer *current;

static void answer_request(pf_peer *origin)
{
	if (!pf_write_all(origin, current->head, strlen(current->head))) {
		return;
	}
	if (!origin->head_request) {
		pf_write_all(origin, current->body, strlen(current->body));
	}
	if (current->close) {
		pf_close(origin);
	}
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	pf_init();
	pf_answer = answer_request;
	pf_framing_oracle = true;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2) {
		return 0;
	}
	current = &answers[data[1] & 7];
	pf_peer *viewer = pf_viewer_open();
	pf_send(viewer, data + 2, size - 2, data[0]);
	if ((data[1] & 8) == 0 && viewer->fd >= 0) {
		/* The viewer has said all it will: what is pending must still be answered. */
		shutdown(viewer->fd, SHUT_WR);
		pf_pump();
	}
	pf_end();
	return 0;
}
