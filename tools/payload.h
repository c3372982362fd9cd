/*
 * payload.h - the load test's datagrams: a realistic DogStatsD mix, each one
 * numbered and checksummed.
 *
 * Every datagram is one or more DogStatsD lines joined by '\n': counters,
 * gauges, timers, histograms, distributions, sets (with sample rates, tags,
 * container ids, timestamps), events (_e{..}) and service checks (_sc|..).
 * Most are ~30 to ~1,400 bytes; a chosen share are large packets of up to
 * UP_PAYLOAD_MAX bytes. The last line always ends with two tags that make the
 * datagram checkable while it stays valid DogStatsD:
 *
 *     ...|#env:prod,up_seq:<n>,up_sum:<8 lowercase hex digits>
 *
 * n is the datagram's sequence number (decimal) and up_sum is the 32-bit
 * FNV-1a hash of every byte before ",up_sum:" (the last 16 bytes are
 * ",up_sum:" and the hash).
 *
 * Speed: the bodies (everything before "up_seq:") are generated once, from
 * the seed, into a few thousand templates with their hash state saved; a
 * datagram is a template (shared, never copied) plus a short tail written
 * per sequence number, so the generator sends from two iovecs.
 */
#ifndef UP_PAYLOAD_H
#define UP_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UP_PAYLOAD_MAX 8192     /* largest datagram generated, bytes */
#define UP_PAYLOAD_TAIL_MAX 48  /* room for a tail, with its NUL */
#define UP_PAYLOAD_SUM_BYTES 16 /* ",up_sum:" and 8 hex digits */

struct up_payload;

/* Generate the templates for `seed`: large_pct percent (0..100) of the
 * sequence numbers get a large packet (about 1,500 to 8,192 bytes).
 * The caller owns *out and frees it with up_payload_free().
 * Returns UP_OK or UP_ENOMEM. */
int up_payload_new(uint64_t seed, unsigned large_pct, struct up_payload **out);
void up_payload_free(struct up_payload *p);

/* The datagram of sequence number `seq` (the same for the same seed):
 * *body points at the shared template (owned by p, read-only), and the
 * tail is written to tail[UP_PAYLOAD_TAIL_MAX]. The datagram is the body
 * followed by the tail. Returns the tail's length. */
size_t up_payload_get(const struct up_payload *p, uint64_t seq, const char **body, size_t *body_len, char *tail);

/* Check a received datagram: true when its hash matches and it carries a
 * sequence number (stored in *seq); false when it is corrupted, cut or not
 * one of ours. Reads only data[0..len). */
bool up_payload_check(const uint8_t *data, size_t len, uint64_t *seq);

#endif
