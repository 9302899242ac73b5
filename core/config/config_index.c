/*
 * The configuration loaders' string index (oa__cfg_index): origin ids and
 * aliases looked up in constant time, so that loading, linting and planning
 * stay linear in the number of origins.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config_internal.h"

/* 64-bit FNV-1a: short keys, no adversary to fear, and a few lines. */
static uint64_t index_hash(const char *key)
{
	uint64_t h = 14695981039346656037u;

	for (const unsigned char *s = (const unsigned char *)key; *s != '\0'; s++) {
		h ^= *s;
		h *= 1099511628211u;
	}
	return h;
}

int oa__cfg_index_init(oa__cfg_index *idx, size_t n)
{
	size_t cap = 8;

	/* At most half full, so a probe sequence stays short and always ends on a free slot. */
	while (cap / 2 < n) {
		if (cap > SIZE_MAX / 2 / sizeof(*idx->slots)) {
			return -ENOMEM;
		}
		cap *= 2;
	}
	idx->slots = calloc(cap, sizeof(*idx->slots));
	if (idx->slots == NULL) {
		idx->mask = 0;
		return -ENOMEM;
	}
	idx->mask = cap - 1;
	return 0;
}

void oa__cfg_index_finish(oa__cfg_index *idx)
{
	free(idx->slots);
	idx->slots = NULL;
	idx->mask = 0;
}

long oa__cfg_index_put(oa__cfg_index *idx, const char *key, size_t value)
{
	size_t i = (size_t)index_hash(key) & idx->mask;

	while (idx->slots[i].key != NULL) {
		if (strcmp(idx->slots[i].key, key) == 0) {
			return (long)idx->slots[i].value;
		}
		i = (i + 1) & idx->mask;
	}
	idx->slots[i].key = key;
	idx->slots[i].value = value;
	return -1;
}

long oa__cfg_index_find(const oa__cfg_index *idx, const char *key)
{
	if (idx == NULL || idx->slots == NULL) {
		return -1;
	}
	size_t i = (size_t)index_hash(key) & idx->mask;

	while (idx->slots[i].key != NULL) {
		if (strcmp(idx->slots[i].key, key) == 0) {
			return (long)idx->slots[i].value;
		}
		i = (i + 1) & idx->mask;
	}
	return -1;
}
