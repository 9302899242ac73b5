/*
 * The bounded DER reader the core's own extension parsers share (name
 * constraints, subjectAltName for constraints, AKI, AIA): every length is
 * checked against what is left, so a malformed extension is a finding, never
 * a read past its end.
 */
#include "internal.h"

bool oa__der_read(const unsigned char **p, const unsigned char *end, oa__tlv *out)
{
	const unsigned char *q = *p;
	size_t len;

	if (end - q < 2 || (q[0] & 0x1f) == 0x1f) {
		return false;
	}
	out->tag = q[0];
	len = q[1];
	q += 2;
	if (len & 0x80) {
		size_t octets = len & 0x7f;

		/* No indefinite length in DER, and no extension needs 4 GB. */
		if (octets == 0 || octets > 4 || (size_t)(end - q) < octets) {
			return false;
		}
		len = 0;
		for (size_t i = 0; i < octets; i++) {
			len = (len << 8) | *q++;
		}
	}
	if ((size_t)(end - q) < len) {
		return false;
	}
	out->data = q;
	out->size = len;
	*p = q + len;
	return true;
}
