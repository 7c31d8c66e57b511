/* The native engine's search: level-synchronous parallel BFS over bit-packed states.
 *
 * This file is appended to the C code generated from the model (checker/native/codegen.py),
 * which defines NW (64-bit words per state), the per-action guard/body/guard-hit functions,
 * the invariants and the tables used below.  Design (see ARCHITECTURE.md, "native engine"):
 *
 *  - A state is NW machine words.  States are numbered in discovery order; state i lives
 *    in a chunked array (chunks of 2^16 states, allocated on demand) next to its parent
 *    link (parent number, action id, input combination: 8 bytes), so a trace is rebuilt by
 *    following links and replaying the actions in Python.
 *  - The visited set is a flat open-addressing (linear probing) hash table, split into
 *    2^SUB_BITS sub-tables by the top hash bits; each sub-table has its own lock and grows
 *    on its own (lock striping: with 2^12 stripes two workers almost never meet).  A slot
 *    is one word: exact mode stores the low 32 bits of the hash and the state number + 1
 *    (the state itself is compared only when the tags match); hash-compaction mode stores
 *    the 64-bit hash (fingerprint) only, frees the states of finished levels and moves
 *    the parent links of finished chunks to a temporary file.
 *  - BFS is level-synchronous: the frontier is the contiguous range [lo, hi) of state
 *    numbers; workers claim blocks of it with an atomic cursor, new states get numbers
 *    >= hi, and a barrier separates levels.  Every state of level L+1 is therefore found
 *    before any of level L+2, so each first violation is a shortest one whatever the
 *    number of workers; the set of states (and so the counts) does not depend on timing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <string.h>
#include <time.h>

#define CH_BITS 16
#define CH_SIZE (1ULL << CH_BITS)
#define MAXCH (1ULL << 16)
#define MAX_STATES_HARD 0xFFFFFFF0ULL
#define GRAB 64

/* inp_t and IN() (the inputs of one run of a body) are in the generated part. */
#define STK (MAXIN * (MAXIN + 1) / 2 + 2)

/* parent number, action, input values (bit j: the action's input j was true): 8 bytes */
/* combo: the values of the inputs a run read (combo_t: 32 or 64 bits, MAXIN); packed to
   10 or 14 bytes */
typedef struct __attribute__((packed)) { uint32_t parent; uint16_t aid; combo_t combo; } link_t;

typedef struct {
  atomic_flag lock; /* a spinlock: held for a few probes only */
  uint64_t *slots;
  uint64_t cap, n;
} sub_t;

static inline void sub_lock(atomic_flag *f) {
  /* Spin briefly, then yield: the holder may have been preempted (more threads than
     free cores), and spinning through its time slice would waste ours. */
  for (int k = 0; atomic_flag_test_and_set_explicit(f, memory_order_acquire); k++)
    if (k > 64) sched_yield();
}
static inline void sub_unlock(atomic_flag *f) {
  atomic_flag_clear_explicit(f, memory_order_release);
}

typedef struct { int set; uint64_t idx; int aid; combo_t combo; double t; } rec_t;

/* The situations at the defaulted input reads of one state's runs of one action (`IN`
   in the generated part): keys stored one after the other in `keys` ([length, key...]),
   an open-addressing table of (generation << 32 | offset + 1); a new expansion starts a
   new generation instead of clearing the table. */
struct memo {
  uint64_t *keys; size_t klen, kcap;
  uint64_t *slot; size_t scap, count;
  uint64_t gen;
};

static uint64_t memo_hash(const uint64_t *k, int nk) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (uint64_t)nk;
  for (int i = 0; i < nk; i++) {
    h ^= k[i];
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 32;
  }
  return h;
}

static void memo_reset(memo_t *m) {
  m->klen = 0; m->count = 0; m->gen++;
  if (m->gen >= (1ULL << 31)) {  /* generations wrap: clear once */
    if (m->slot) memset(m->slot, 0, m->scap * 8);
    m->gen = 1;
  }
}

/* 1 if key k was recorded in this expansion, else record it and return 0 (also 0 when
   memory runs out: no pruning is always correct). */
static int MEMO(memo_t *m, const uint64_t *k, int nk) {
  if ((m->count + 1) * 2 > m->scap) {
    size_t nc = m->scap ? m->scap * 2 : 256;
    uint64_t *ns = calloc(nc, 8);
    if (!ns) return 0;
    for (size_t off = 0; off < m->klen; off += 1 + m->keys[off]) {  /* rehash this gen */
      uint64_t h = memo_hash(m->keys + off + 1, (int)m->keys[off]);
      size_t p = h & (nc - 1);
      while (ns[p]) p = (p + 1) & (nc - 1);
      ns[p] = (m->gen << 32) | (off + 1);
    }
    free(m->slot);
    m->slot = ns; m->scap = nc;
  }
  uint64_t h = memo_hash(k, nk);
  size_t p = h & (m->scap - 1);
  for (;;) {
    uint64_t e = m->slot[p];
    if (!e || (e >> 32) != m->gen) break;
    size_t off = (size_t)(e & 0xFFFFFFFFULL) - 1;
    if ((int)m->keys[off] == nk && memcmp(m->keys + off + 1, k, (size_t)nk * 8) == 0)
      return 1;
    p = (p + 1) & (m->scap - 1);
  }
  if (m->klen + 1 + (size_t)nk > m->kcap) {
    size_t nc = m->kcap ? m->kcap * 2 : 4096;
    while (nc < m->klen + 1 + (size_t)nk) nc *= 2;
    uint64_t *nk2 = realloc(m->keys, nc * 8);
    if (!nk2) return 0;
    m->keys = nk2; m->kcap = nc;
  }
  if (m->klen + 1 >= (1ULL << 32)) return 0;
  m->slot[p] = (m->gen << 32) | (m->klen + 1);
  m->keys[m->klen] = (uint64_t)nk;
  memcpy(m->keys + m->klen + 1, k, (size_t)nk * 8);
  m->klen += 1 + (size_t)nk;
  m->count++;
  return 0;
}

/* The successors of one expanded state: generated first, then hashed and their table
   slots prefetched, then (one state later) their stored candidates prefetched, then
   (PIPE - 1 states later) inserted, so the cache misses of a state's successors overlap
   with each other and with the generation of the next states instead of following one
   another. */
typedef struct {
  size_t cap, vcap;
  uint64_t *sn;      /* cap * NW words */
  uint64_t *sh;      /* hashes */
  uint64_t *sinfo;   /* action */
  combo_t *scombo;   /* the run's input values */
  uint32_t *svoff;   /* offset of the violation list in sv */
  uint16_t *snv;     /* its length */
  uint16_t *sv;      /* vcap violation ids */
  size_t vlen, ns;
  uint64_t i;        /* the expanded state's number */
  int live;          /* successors waiting to be handled */
  int nen;
  uint64_t s[NW];    /* the expanded state */
  uint16_t en[NACT]; /* its enabled actions */
  memo_t memo;       /* input-read situations of the action being expanded (`IN`) */
} succ_t;

#define PIPE 4 /* states in flight per worker (3 measured within noise of 4) */

struct ctx;
typedef struct {
  struct ctx *c;
  int id;
  pthread_t th;
  uint64_t transitions, expanded, reduced;
  uint64_t fired[NACT];
  uint64_t failed[NCHECK];
  uint64_t seq; /* states generated by this worker (the pipeline's position) */
  succ_t q[PIPE];
} __attribute__((aligned(64))) worker_t; /* no false sharing between workers' counters */

static int reserve(succ_t *w, size_t n, size_t nv) {
  if (n > w->cap) {
    size_t c = w->cap ? w->cap : 256;
    while (c < n) c *= 2;
    uint64_t *sn = realloc(w->sn, c * NW * 8);
    if (sn) w->sn = sn;
    uint64_t *sh = realloc(w->sh, c * 8);
    if (sh) w->sh = sh;
    uint64_t *si = realloc(w->sinfo, c * 8);
    if (si) w->sinfo = si;
    combo_t *sc2 = realloc(w->scombo, c * sizeof(combo_t));
    if (sc2) w->scombo = sc2;
    uint32_t *so = realloc(w->svoff, c * 4);
    if (so) w->svoff = so;
    uint16_t *sc = realloc(w->snv, c * 2);
    if (sc) w->snv = sc;
    if (!sn || !sh || !si || !sc2 || !so || !sc) return 0;
    w->cap = c;
  }
  if (nv > w->vcap) {
    size_t c = w->vcap ? w->vcap : 1024;
    while (c < nv) c *= 2;
    uint16_t *sv = realloc(w->sv, c * 2);
    if (!sv) return 0;
    w->sv = sv;
    w->vcap = c;
  }
  return 1;
}

typedef struct ctx {
  int workers, compact, stop_early, check_asserts, sub_bits, locking, por;
  int any_inv;                /* some invariant is checked */
  unsigned char inv_on[NINV]; /* per invariant: checked (any number of them) */
  uint64_t max_states, max_bytes;
  _Atomic(uint64_t *) st[MAXCH];
  _Atomic(link_t *) ln[MAXCH];
  uint64_t st_freed;  /* compaction: chunks below this one have been freed */
  /* compaction: the parent links of chunks below ln_flushed are in the temporary file
     lnf (at offset 8 * state number), not in memory; disk_bytes is its size. */
  FILE *lnf;
  uint64_t ln_flushed, disk_bytes;
  int lnf_failed;
  pthread_mutex_t alloc_lock, rec_lock;
  sub_t *subs;
  uint64_t nsub;
  uint64_t lo, hi;
  uint32_t depth;
  /* Hot shared words each on their own cache line: a write to one (a new state number,
     a claimed block) must not evict the read-mostly fields every transition reads. */
  _Alignas(64) _Atomic uint64_t count;
  _Alignas(64) _Atomic uint64_t cursor;
  _Alignas(64) _Atomic uint64_t bytes;
  _Atomic uint64_t peak_bytes;
  _Atomic uint64_t table_bytes; /* the visited set's slots (part of bytes) */
  _Alignas(64) _Atomic int stop;
  int stop_reason; /* 1 user, 2 max_states, 3 model error, 4 stop early, 5 no memory or
                      state numbers, 6 the memory bound max_bytes, 7 every target stored */
  /* States sought (fp_targets: the pre-states of prove's counterexamples to induction):
     the search stops at the first level barrier where all of them are stored. */
  uint64_t *targets;
  int ntargets;
  int done;
  pthread_barrier_t bar;
  rec_t ka, chk[NCHECK], grd[NGUARD], inv[NINV], dead, err;
  _Alignas(64) _Atomic int open_guards;
  _Alignas(64) struct timespec t0;
  worker_t *w;
  int sym; /* canonicalise successors (explore --symmetry) */
  /* Several workers: the slot arrays a grow() replaced, freed at the end of the level
     (alloc_lock): another worker's probe() may still be reading one. */
  uint64_t **retired;
  size_t nretired, retired_cap;
  uint64_t retired_bytes;
} ctx_t;

static double now(ctx_t *c) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - c->t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - c->t0.tv_nsec);
}

static void add_bytes(ctx_t *c, int64_t d) {
  uint64_t b = atomic_fetch_add(&c->bytes, (uint64_t)d) + (uint64_t)d;
  uint64_t p = atomic_load(&c->peak_bytes);
  while (b > p && !atomic_compare_exchange_weak(&c->peak_bytes, &p, b)) {}
}

static inline uint64_t mix(uint64_t x) {
  x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27; x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

static inline uint64_t hash_state(const uint64_t *s) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (int w = 0; w < NW; w++) h = mix(h ^ s[w]) + (uint64_t)w;
  return h;
}

static void *chunk(ctx_t *c, _Atomic(void *) *slot, size_t size) {
  void *p = atomic_load_explicit(slot, memory_order_acquire);
  if (p) return p;
  pthread_mutex_lock(&c->alloc_lock);
  p = atomic_load_explicit(slot, memory_order_acquire);
  if (!p) {
    p = malloc(size);
    if (p) { add_bytes(c, (int64_t)size); atomic_store_explicit(slot, p, memory_order_release); }
  }
  pthread_mutex_unlock(&c->alloc_lock);
  return p;
}

/* Stored states are packed densely: the used bits of each word, concatenated, in SB
   bytes (e.g. 202 bits in 26 bytes instead of 4 words). */
#define NP ((SB + 7) / 8)
static inline void pack_st(const uint64_t *n, uint8_t *dst) {
  uint64_t p[NP + 1];
  memset(p, 0, sizeof p);
  int bit = 0;
  for (int w = 0; w < NW; w++) {
    int u = USED[w], k = bit >> 6, o = bit & 63;
    if (!u) continue;
    p[k] |= n[w] << o;
    if (o && o + u > 64) p[k + 1] |= n[w] >> (64 - o);
    bit += u;
  }
  memcpy(dst, p, SB);
}

static inline void unpack_st(const uint8_t *src, uint64_t *n) {
  uint64_t p[NP + 1];
  memset(p, 0, sizeof p);
  memcpy(p, src, SB);
  int bit = 0;
  for (int w = 0; w < NW; w++) {
    int u = USED[w], k = bit >> 6, o = bit & 63;
    if (!u) { n[w] = 0; continue; }
    uint64_t v = p[k] >> o;
    if (o && o + u > 64) v |= p[k + 1] << (64 - o);
    n[w] = u == 64 ? v : v & ((1ULL << u) - 1);
    bit += u;
  }
}

static inline uint8_t *state_at(ctx_t *c, uint64_t i) {
  uint8_t *ch = (uint8_t *)atomic_load_explicit(&c->st[i >> CH_BITS], memory_order_acquire);
  return ch ? ch + (i & (CH_SIZE - 1)) * SB : 0;
}

static inline link_t *link_at(ctx_t *c, uint64_t i) {
  link_t *ch = atomic_load_explicit(&c->ln[i >> CH_BITS], memory_order_acquire);
  return ch ? ch + (i & (CH_SIZE - 1)) : 0;
}

static void set_stop(ctx_t *c, int reason) {
  int z = 0;
  if (atomic_compare_exchange_strong(&c->stop, &z, 1)) c->stop_reason = reason;
}

/* Open addressing with linear probing; a key's home slot is its 32 low hash bits scaled
   to the capacity (multiply-shift, so a capacity need not be a power of two: tables grow
   by half, not double, which keeps their load between 2/3 and 1 of the maximum instead of
   between 1/2 and 1).  The maximum load is 3/4 in exact mode (probes compare 32-bit tags,
   then whole states) and 7/8 with hash compaction, where a slot is only the 8-byte
   fingerprint and memory per state is the point.  Exact mode's home comes from the tag,
   so a table can be rehashed from its slots alone. */
static inline uint64_t home_of(uint64_t cap, uint64_t low32) {
  return (low32 * cap) >> 32;
}

static inline uint64_t slot_home(ctx_t *c, uint64_t e, uint64_t cap) {
  return home_of(cap, c->compact ? (e & 0xFFFFFFFFULL) : (e >> 32));
}

static inline int over_load(ctx_t *c, sub_t *t) {
  return (t->n + 1) * 8 > t->cap * (c->compact ? 7 : 6);
}

/* Several workers: keep a replaced slot array until the level ends (release_retired),
   since probe() reads tables without their lock. */
static int retire(ctx_t *c, uint64_t *old, uint64_t bytes) {
  pthread_mutex_lock(&c->alloc_lock);
  int ok = 1;
  if (c->nretired == c->retired_cap) {
    size_t n = c->retired_cap ? 2 * c->retired_cap : 64;
    uint64_t **r = realloc(c->retired, n * sizeof *r);
    if (r) { c->retired = r; c->retired_cap = n; } else ok = 0;
  }
  if (ok) { c->retired[c->nretired++] = old; c->retired_bytes += bytes; }
  pthread_mutex_unlock(&c->alloc_lock);
  return ok;
}

/* Between a level's two barriers (no worker probes): free the replaced slot arrays. */
static void release_retired(ctx_t *c) {
  for (size_t k = 0; k < c->nretired; k++) free(c->retired[k]);
  add_bytes(c, -(int64_t)c->retired_bytes);
  c->nretired = 0;
  c->retired_bytes = 0;
}

static int grow(ctx_t *c, sub_t *t) {
  uint64_t ncap = t->cap ? (t->cap + t->cap / 2 + 7) & ~7ULL : 8;
  uint64_t *ns = calloc(ncap, sizeof(uint64_t));
  if (!ns) return 0;
  if (c->locking && t->slots && !retire(c, t->slots, t->cap * sizeof(uint64_t))) {
    free(ns);
    return 0;
  }
  for (uint64_t k = 0; k < t->cap; k++) {
    uint64_t e = t->slots[k];
    if (!e) continue;
    uint64_t pos = slot_home(c, e, ncap);
    while (ns[pos]) pos = pos + 1 == ncap ? 0 : pos + 1;
    ns[pos] = e;
  }
  /* A retired array still counts until it is freed. */
  add_bytes(c, (int64_t)(ncap * sizeof(uint64_t))
               - (c->locking ? 0 : (int64_t)(t->cap * sizeof(uint64_t))));
  atomic_fetch_add(&c->table_bytes, (ncap - t->cap) * sizeof(uint64_t));
  if (!c->locking) free(t->slots);
  /* The array first, then its capacity (probe() reads them in the other order): a
     reader that sees the new capacity sees the new array; one that sees the old
     capacity indexes either array within bounds. */
  __atomic_store_n(&t->slots, ns, __ATOMIC_RELEASE);
  __atomic_store_n(&t->cap, ncap, __ATOMIC_RELEASE);
  return 1;
}

/* With several workers: is the packed state pk (hash h, key as insert() stores it)
   already in sub-table t?  Read without the sub-table's lock, as probe() reads it.  A
   hit is certain: exact mode compares the whole state, which insert() wrote before it
   published the slot (a release store; loaded here with acquire).  A miss is not (a
   concurrent insert or grow() may hide the slot), so the caller then takes the lock and
   searches again.  Most transitions lead to states already stored, and this way they
   never write the sub-table's cache line (the lock), which the other workers read. */
static int seen_unlocked(ctx_t *c, sub_t *t, const uint8_t *pk, uint64_t h, uint64_t key) {
  uint64_t tag = h & 0xFFFFFFFFULL;
  uint64_t cap = __atomic_load_n(&t->cap, __ATOMIC_ACQUIRE);
  uint64_t *sl = __atomic_load_n(&t->slots, __ATOMIC_ACQUIRE), e;
  if (!cap || !sl) return 0;
  /* The load limit leaves empty slots in either array, so the probe ends. */
  for (uint64_t pos = slot_home(c, key, cap);
       (e = __atomic_load_n(&sl[pos], __ATOMIC_ACQUIRE)) != 0;
       pos = pos + 1 == cap ? 0 : pos + 1) {
    if (c->compact) {
      if (e == key) return 1;
    } else if ((e >> 32) == tag) {
      const uint8_t *p = state_at(c, (e & 0xFFFFFFFFULL) - 1);
      if (p && memcmp(p, pk, SB) == 0) return 1;
    }
  }
  return 0;
}

/* Insert state n (hash h); 1 if it is new (its number in *idx), 0 if seen, -1 on no memory. */
static int insert(ctx_t *c, worker_t *w, const uint64_t *n, uint64_t h, uint64_t *idx,
                  uint64_t parent, int aid, combo_t combo) {
  sub_t *t = &c->subs[c->sub_bits ? h >> (64 - c->sub_bits) : 0];
  uint8_t pk[SB];
  pack_st(n, pk);
  uint64_t key = c->compact ? (h ? h : 1) : (h & 0xFFFFFFFFULL) << 32;
  if (c->locking && seen_unlocked(c, t, pk, h, key)) return 0;
  if (c->locking) sub_lock(&t->lock);
  int res = 1;
  if (over_load(c, t) && !grow(c, t)) { res = -1; goto out; }
  uint64_t cap = t->cap, pos = slot_home(c, key, cap), e;
  while ((e = t->slots[pos]) != 0) {
    if (c->compact) {
      if (e == key) { res = 0; goto out; }
    } else if ((e >> 32) == (h & 0xFFFFFFFFULL)) {
      if (memcmp(state_at(c, (e & 0xFFFFFFFFULL) - 1), pk, SB) == 0) { res = 0; goto out; }
    }
    pos = pos + 1 == cap ? 0 : pos + 1;
  }
  uint64_t i = atomic_fetch_add(&c->count, 1);
  if (i >= MAX_STATES_HARD) { set_stop(c, 5); res = -1; goto out; }
  uint8_t *sp = chunk(c, (_Atomic(void *) *)&c->st[i >> CH_BITS], CH_SIZE * SB);
  link_t *lp = chunk(c, (_Atomic(void *) *)&c->ln[i >> CH_BITS], CH_SIZE * sizeof(link_t));
  if (!sp || !lp) { res = -1; goto out; }
  memcpy(sp + (i & (CH_SIZE - 1)) * SB, pk, SB);
  link_t *l = lp + (i & (CH_SIZE - 1));
  l->parent = (uint32_t)parent; l->aid = (uint16_t)aid; l->combo = combo;
  /* release: the state and its link are written before the slot that names them
     (seen_unlocked() and probe() read the slot without the lock) */
  __atomic_store_n(&t->slots[pos], c->compact ? key : (key | (i + 1)), __ATOMIC_RELEASE);
  t->n++;
  *idx = i;
out:
  if (c->locking) sub_unlock(&t->lock);
  return res;
}

/* The number of state n (hash h) if it is stored, else -1 (exact mode only). */
static int64_t lookup(ctx_t *c, const uint64_t *n, uint64_t h) {
  sub_t *t = &c->subs[c->sub_bits ? h >> (64 - c->sub_bits) : 0];
  if (c->locking) sub_lock(&t->lock);
  int64_t res = -1;
  if (t->cap) {
    uint8_t pk[SB];
    pack_st(n, pk);
    uint64_t cap = t->cap, pos = home_of(cap, h & 0xFFFFFFFFULL), e;
    while ((e = t->slots[pos]) != 0) {
      if ((e >> 32) == (h & 0xFFFFFFFFULL)
          && memcmp(state_at(c, (e & 0xFFFFFFFFULL) - 1), pk, SB) == 0) {
        res = (int64_t)(e & 0xFFFFFFFFULL) - 1;
        break;
      }
      pos = pos + 1 == cap ? 0 : pos + 1;
    }
  }
  if (c->locking) sub_unlock(&t->lock);
  return res;
}

/* Every target is stored (called at a level barrier, where no worker inserts). */
static int all_targets_stored(ctx_t *c) {
  for (int k = 0; k < c->ntargets; k++) {
    const uint64_t *t = c->targets + (size_t)k * NW;
    if (lookup(c, t, hash_state(t)) < 0) return 0;
  }
  return 1;
}

static int all_violated(ctx_t *c) {
  for (int k = 0; k < NREALINV; k++)
    if (c->inv_on[k] && !c->inv[k].set) return 0;
  if (c->check_asserts && !c->ka.set) return 0;
  return 1;
}

static void record(ctx_t *c, rec_t *r, uint64_t idx, int aid, combo_t combo) {
  if (__atomic_load_n(&r->set, __ATOMIC_ACQUIRE)) return;
  pthread_mutex_lock(&c->rec_lock);
  if (!r->set) {
    r->idx = idx; r->aid = aid; r->combo = combo; r->t = now(c);
    __atomic_store_n(&r->set, 1, __ATOMIC_RELEASE);
    if (c->stop_early && all_violated(c)) set_stop(c, 4);
  }
  pthread_mutex_unlock(&c->rec_lock);
}

static void check_invariants(ctx_t *c, uint64_t idx, const uint64_t *n) {
  for (int k = 0; k < NREALINV; k++)
    if (c->inv_on[k] && !__atomic_load_n(&c->inv[k].set, __ATOMIC_ACQUIRE)
        && !INV[k](n))
      record(c, &c->inv[k], idx, -1, 0);
}

static void handle(ctx_t *c, worker_t *w, uint64_t i, const uint64_t *s, int a,
                   combo_t combo, const uint64_t *n, uint64_t h, const uint16_t *viol,
                   int nv, int store) {
  /* store 0: a transition outside the stubborn set (partial-order reduction): its
     assertions and guards are checked, its successor is not stored. */
  if (store) { w->transitions++; w->fired[a]++; }
  int bug = 0;
  for (int v = 0; v < nv; v++) { w->failed[viol[v]]++; bug |= CHECK_BUG[viol[v]]; }
  if (nv && c->check_asserts) {
    record(c, &c->ka, i, a, combo);
    for (int v = 0; v < nv; v++) record(c, &c->chk[viol[v]], i, a, combo);
  }
  if (bug) return; /* BUG() kills the kernel: nothing follows this step */
  if (atomic_load_explicit(&c->open_guards, memory_order_relaxed) && ACT_HASHITS[a]) {
    uint16_t hit[NGUARD];
    int nh = ACT_HITS[a](s, hit);
    for (int q = 0; q < nh; q++) {
      int gi = hit[q];
      if (!__atomic_load_n(&c->grd[gi].set, __ATOMIC_ACQUIRE)) {
        record(c, &c->grd[gi], i, a, combo);
        int left = 0;
        for (int k = 0; k < NREALGUARD; k++)
          left += !__atomic_load_n(&c->grd[k].set, __ATOMIC_ACQUIRE);
        atomic_store(&c->open_guards, left);
      }
    }
  }
  if (!store) return;
  uint64_t idx;
  int r = insert(c, w, n, h, &idx, i, a, combo);
  if (r < 0) { set_stop(c, 5); return; }
  if (r == 1 && c->any_inv) check_invariants(c, idx, n);
}

/* Partial-order reduction (checker/por.py has the same algorithm and the argument):
   the stubborn set from `seed`, an enabled action.  Enabled members add the actions
   dependent on them, disabled ones the enabling set of their first false guard
   conjunct.  Returns 0 as soon as it holds every enabled action (no reduction). */
static int por_closure(const uint64_t *s, int seed, const uint64_t *E, uint64_t *T) {
  int stack[NACT];
  int sp = 0;
  memset(T, 0, POR_W * 8);
  T[seed >> 6] |= 1ULL << (seed & 63);
  stack[sp++] = seed;
  while (sp) {
    int t = stack[--sp];
    const uint64_t *add = (E[t >> 6] >> (t & 63) & 1) ? POR_DEP[t] : POR_NESB[POR_NES(t, s)];
    int grew = 0;
    for (int k = 0; k < POR_W; k++) {
      uint64_t nw = add[k] & ~T[k];
      if (!nw) continue;
      grew = 1;
      T[k] |= nw;
      while (nw) { stack[sp++] = k * 64 + __builtin_ctzll(nw); nw &= nw - 1; }
    }
    if (grew) {
      int full = 1;
      for (int k = 0; k < POR_W && full; k++) full = (T[k] & E[k]) == E[k];
      if (full) return 0;
    }
  }
  return 1;
}

static int popcount_w(const uint64_t *b) {
  int n = 0;
  for (int k = 0; k < POR_W; k++) n += __builtin_popcountll(b[k]);
  return n;
}

/* Choose the stubborn set of state s (successors already generated in w): candidates
   smallest first, ties by the lowest seed; the first with no fatal failure and all
   successors new at this level (not numbered below c->hi) is used.  1 and its action
   bitset in amp, or 0: expand fully. */
static int por_choose(ctx_t *c, const succ_t *w, const uint64_t *s, const uint16_t *en,
                      int nen, size_t ns, uint64_t *amp) {
  uint64_t E[POR_W];
  memset(E, 0, sizeof E);
  for (int e = 0; e < nen; e++) E[en[e] >> 6] |= 1ULL << (en[e] & 63);
  uint64_t cand[nen][POR_W]; /* at most one candidate per enabled seed */
  int csize[nen], nc = 0;
  uint64_t T[POR_W];
  for (int k = 0; k < POR_W; k++) {
    uint64_t seeds = E[k] & POR_USEFUL[k];
    while (seeds) {
      int seed = k * 64 + __builtin_ctzll(seeds);
      seeds &= seeds - 1;
      if (!por_closure(s, seed, E, T)) continue;
      for (int q = 0; q < POR_W; q++) T[q] &= E[q];
      int dup = 0;
      for (int m = 0; m < nc && !dup; m++) dup = memcmp(cand[m], T, sizeof T) == 0;
      if (dup) continue;
      /* insertion by size; a later seed goes after equal sizes (ties: lowest seed) */
      int sz = popcount_w(T), at = nc;
      while (at > 0 && csize[at - 1] > sz) {
        memcpy(cand[at], cand[at - 1], sizeof T);
        csize[at] = csize[at - 1];
        at--;
      }
      memcpy(cand[at], T, sizeof T);
      csize[at] = sz;
      nc++;
    }
  }
  for (int m = 0; m < nc; m++) {
    int ok = 1;
    for (size_t j = 0; j < ns && ok; j++) {
      int a = (int)w->sinfo[j];
      if (!(cand[m][a >> 6] >> (a & 63) & 1)) continue;
      const uint16_t *viol = w->sv + w->svoff[j];
      for (int v = 0; v < w->snv[j]; v++)
        if (CHECK_BUG[viol[v]]) ok = 0; /* a fatal failure: nothing to continue from */
      if (!ok) break;
      int64_t idx = lookup(c, w->sn + j * NW, w->sh[j]);
      if (idx >= 0 && (uint64_t)idx < c->hi) ok = 0; /* cycle proviso: an old level */
    }
    if (ok) { memcpy(amp, cand[m], sizeof T); return 1; }
  }
  return 0;
}

/* Stage 1: the successors of state i into b (hashed, their home slots prefetched). */
static void generate(ctx_t *c, succ_t *b, uint64_t i) {
  uint64_t *s = b->s;
  b->i = i;
  b->ns = 0;
  b->live = 0;
  unpack_st(state_at(c, i), s);
  uint16_t *en = b->en;
  int nen = b->nen = ENABLED(s, en);
  size_t ns = 0;
  b->vlen = 0;
  for (int e = 0; e < nen; e++) {
    int a = en[e];
    size_t first = ns;
    /* Inputs are enumerated lazily, depth-first over the ones the body actually reads
       (as checker.explicit.compile.lazy_inputs): a run fixes some inputs, the others
       read as false; each defaulted read is then flipped to true, with the defaulted
       reads before it kept false.  Inputs a run never reads cannot change its outcome. */
    combo_t stf[STK], stv[STK];
    int sp = 1;
    stf[0] = 0; stv[0] = 0;
    memo_reset(&b->memo);
    while (sp) {
      sp--;
      inp_t in;
      in.vals = stv[sp]; in.fixed = stf[sp]; in.seen = 0; in.nord = 0;
      in.pruned = 0; in.memo = &b->memo;
      if (!reserve(b, ns + 1, b->vlen + MAXVIOL)) { set_stop(c, 5); return; }
      uint64_t *n = b->sn + ns * NW;
      uint16_t *viol = b->sv + b->vlen;
      int nv = ACT_BODY[a](s, &in, n, viol);
      combo_t combo = in.vals;
      combo_t bf = in.fixed;
      for (int k = 0; k < in.nord; k++) {
        if (sp >= STK) { set_stop(c, 5); return; } /* cannot happen: STK bounds the DFS */
        combo_t bit = (combo_t)1 << in.ord[k];
        stf[sp] = bf | bit; stv[sp] = in.vals | bit; sp++;
        bf |= bit;
      }
      if (nv < 0) {
        pthread_mutex_lock(&c->rec_lock);
        if (!c->err.set) {
          c->err.set = -nv; c->err.idx = i; c->err.aid = a; c->err.combo = combo;
          c->err.t = now(c);
        }
        pthread_mutex_unlock(&c->rec_lock);
        set_stop(c, 3);
        return;
      }
      /* A pruned run (`IN`): its outcome and everything after its pruned read belong
         to a subtree already enumerated. */
      if (in.pruned) continue;
      /* Input combinations with the same outcome (successor and failed checks) are one
         transition. */
      int dup = 0;
      for (size_t j = first; j < ns && !dup; j++)
        dup = b->snv[j] == nv && memcmp(b->sn + j * NW, n, NW * 8) == 0
              && memcmp(b->sv + b->svoff[j], viol, (size_t)nv * 2) == 0;
      if (!dup) {
        b->sinfo[ns] = (uint64_t)a;
        b->scombo[ns] = combo;
        b->svoff[ns] = (uint32_t)b->vlen;
        b->snv[ns] = (uint16_t)nv;
        b->vlen += (size_t)nv;
        ns++;
      }
    }
  }
  if (!ns) { record(c, &c->dead, i, -1, 0); return; }
  for (size_t j = 0; j < ns; j++) {
    /* --symmetry: one representative per orbit (after the per-action duplicate check
       on the concrete successors, as the reference engine does). */
    if (c->sym) CANON(b->sn + j * NW);
    uint64_t h = hash_state(b->sn + j * NW);
    b->sh[j] = h;
    sub_t *t = &c->subs[c->sub_bits ? h >> (64 - c->sub_bits) : 0];
    /* Only a hint (a prefetch never faults), so no lock: another worker may be growing
       this sub-table. */
    uint64_t cap = t->cap;
    uint64_t *sl = t->slots;
    if (cap && sl) __builtin_prefetch(&sl[home_of(cap, h & 0xFFFFFFFFULL)]);
  }
  b->ns = ns;
  b->live = 1;
}

/* Stage 2 (exact mode): the home slots have arrived; prefetch the stored state of the
   first slot whose tag matches, which insert() will compare with the successor.  Most
   successors were seen before, so this is the miss nearly every transition pays.  With
   several workers the table is read without its lock: another worker may be inserting
   (a slot is one aligned word: read whole, old or new) or growing it (grow() publishes
   the new array before its capacity and frees the old one only at the level's end), and
   a stale answer only prefetches the wrong line. */
static void probe(ctx_t *c, const succ_t *b) {
  if (!b->live || c->compact) return;
  for (size_t j = 0; j < b->ns; j++) {
    uint64_t h = b->sh[j], tag = h & 0xFFFFFFFFULL;
    sub_t *t = &c->subs[c->sub_bits ? h >> (64 - c->sub_bits) : 0];
    uint64_t cap = __atomic_load_n(&t->cap, __ATOMIC_ACQUIRE);
    uint64_t *sl = __atomic_load_n(&t->slots, __ATOMIC_ACQUIRE), e;
    if (!cap) continue;
    for (uint64_t pos = home_of(cap, tag), k = 0;
         k < 4 && (e = __atomic_load_n(&sl[pos], __ATOMIC_RELAXED)) != 0; k++) {
      if ((e >> 32) == tag) {
        const uint8_t *p = state_at(c, (e & 0xFFFFFFFFULL) - 1);
        if (p) {
          __builtin_prefetch(p);
          __builtin_prefetch(p + SB - 1); /* a packed state may straddle two lines */
        }
        break;
      }
      pos = pos + 1 == cap ? 0 : pos + 1;
    }
  }
}

/* Stage 3: the stubborn set (POR), then each transition's checks and its successor's
   insertion, in generation order. */
static void finish(ctx_t *c, worker_t *w, succ_t *b) {
  if (!b->live) return;
  b->live = 0;
  w->expanded++;
  size_t ns = b->ns;
  uint64_t amp[POR_W];
  int reduce = c->por && b->nen > 1 && por_choose(c, b, b->s, b->en, b->nen, ns, amp);
  if (reduce) w->reduced++;
  for (size_t j = 0; j < ns; j++) {
    int a = (int)b->sinfo[j];
    handle(c, w, b->i, b->s, a, b->scombo[j], b->sn + j * NW, b->sh[j],
           b->sv + b->svoff[j], b->snv[j], !reduce || (amp[a >> 6] >> (a & 63) & 1));
  }
}

/* Expand state i: generate its successors, prefetch the stored candidates of the state
   before it, and handle those of the state PIPE - 1 before it (this worker's). */
static void expand(ctx_t *c, worker_t *w, uint64_t i) {
  uint64_t k = w->seq++;
  generate(c, &w->q[k % PIPE], i);
  if (k >= 1) probe(c, &w->q[(k - 1) % PIPE]);
  if (k >= PIPE - 1) finish(c, w, &w->q[(k - (PIPE - 1)) % PIPE]);
}

/* The end of a level (or of the search): handle the states still in the pipeline. */
static void drain(ctx_t *c, worker_t *w) {
  uint64_t k = w->seq;
  for (uint64_t d = PIPE - 1; d >= 1; d--)
    if (k >= d) finish(c, w, &w->q[(k - d) % PIPE]);
  w->seq = 0;
}

static void *worker_main(void *arg) {
  worker_t *w = arg;
  ctx_t *c = w->c;
  for (;;) {
    while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
      uint64_t start = atomic_fetch_add(&c->cursor, GRAB);
      if (start >= c->hi) break;
      uint64_t end = start + GRAB < c->hi ? start + GRAB : c->hi;
      for (uint64_t i = start; i < end; i++) {
        expand(c, w, i);
        if (atomic_load_explicit(&c->stop, memory_order_relaxed)) break;
      }
      if (c->max_states && atomic_load_explicit(&c->count, memory_order_relaxed) >= c->max_states)
        set_stop(c, 2);
      if (c->max_bytes && atomic_load_explicit(&c->bytes, memory_order_relaxed) >= c->max_bytes)
        set_stop(c, 6);
    }
    drain(c, w); /* every successor of this level is handled before the barrier */
    if (c->workers > 1) pthread_barrier_wait(&c->bar);
    if (w->id == 0) {
      if (c->nretired) release_retired(c);
      if (c->ntargets && all_targets_stored(c)) set_stop(c, 7);
      uint64_t cnt = atomic_load(&c->count);
      if (atomic_load(&c->stop) || cnt == c->hi) {
        c->done = 1;
      } else {
        c->lo = c->hi;
        c->hi = cnt;
        atomic_store(&c->cursor, c->lo);
        c->depth++;
        if (c->compact) { /* the states of finished levels are no longer needed */
          pthread_mutex_lock(&c->alloc_lock);
          while ((c->st_freed + 1) * CH_SIZE <= c->lo) {
            uint64_t *p = atomic_exchange(&c->st[c->st_freed], (uint64_t *)0);
            if (p) { free(p); add_bytes(c, -(int64_t)(CH_SIZE * SB)); }
            c->st_freed++;
          }
          /* Every state below cnt has its link written (the barrier orders it): full
             chunks of links go to the file, as TLC keeps its trace on disk; memory then
             holds the fingerprints, the last two levels' states and one chunk of links. */
          while (c->lnf && !c->lnf_failed && (c->ln_flushed + 1) * CH_SIZE <= cnt) {
            link_t *p = atomic_load(&c->ln[c->ln_flushed]);
            size_t sz = CH_SIZE * sizeof(link_t);
            if (!p || fseeko(c->lnf, (off_t)(c->ln_flushed * sz), SEEK_SET) != 0
                || fwrite(p, 1, sz, c->lnf) != sz || fflush(c->lnf) != 0) {
              c->lnf_failed = 1; /* e.g. disk full: keep the links in memory */
              break;
            }
            atomic_store(&c->ln[c->ln_flushed], (link_t *)0);
            free(p);
            add_bytes(c, -(int64_t)sz);
            c->disk_bytes += sz;
            c->ln_flushed++;
          }
          pthread_mutex_unlock(&c->alloc_lock);
        }
      }
    }
    if (c->workers > 1) pthread_barrier_wait(&c->bar);
    if (c->done) break;
  }
  return 0;
}

/* ----------------------------------------------------------------- the Python interface */

int fp_nw(void) { return NW; }
int fp_nact(void) { return NREALACT; }

void *fp_new(int workers, int compact, uint64_t max_states, uint64_t max_bytes, int stop_early,
             const unsigned char *inv_on, int check_asserts, int sub_bits, const uint64_t *init,
             int por) {
  size_t csize = (sizeof(ctx_t) + 63) / 64 * 64;
  ctx_t *c = aligned_alloc(64, csize);
  if (!c) return 0;
  memset(c, 0, csize);
  c->workers = workers < 1 ? 1 : workers;
  c->locking = c->workers > 1;
  c->compact = compact;
  if (compact) c->lnf = tmpfile(); /* no file: the links stay in memory */
  c->por = por && POR_ON && !compact; /* the proviso needs state numbers (exact mode) */
  c->max_states = max_states;
  c->max_bytes = max_bytes;
  c->stop_early = stop_early;
  for (int k = 0; k < NREALINV; k++) c->any_inv |= c->inv_on[k] = inv_on[k] != 0;
  c->check_asserts = check_asserts;
  c->sub_bits = sub_bits;
  c->nsub = 1ULL << sub_bits;
  pthread_mutex_init(&c->alloc_lock, 0);
  pthread_mutex_init(&c->rec_lock, 0);
  c->subs = calloc(c->nsub, sizeof(sub_t));
  c->w = aligned_alloc(64, (size_t)c->workers * sizeof(worker_t));
  if (c->w) memset(c->w, 0, (size_t)c->workers * sizeof(worker_t));
  if (!c->subs || !c->w) return 0;
  add_bytes(c, (int64_t)(sizeof(ctx_t) + c->nsub * sizeof(sub_t)));
  for (uint64_t k = 0; k < c->nsub; k++) atomic_flag_clear(&c->subs[k].lock);
  atomic_store(&c->open_guards, NREALGUARD);
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
  uint64_t idx;
  if (insert(c, 0, init, hash_state(init), &idx, 0xFFFFFFFFULL, 0xFFFF, 0) != 1) return 0;
  c->lo = 0;
  c->hi = 1;
  if (c->any_inv) check_invariants(c, 0, init);
  return c;
}

/* Symmetry reduction on or off (before fp_run; the initial state passed to fp_new must
   already be canonical). */
int fp_symmetry(void *h, int on) {
  ctx_t *c = h;
  c->sym = on && NSYM > 0;
  return c->sym;
}

int fp_run(void *h) {
  ctx_t *c = h;
  clock_gettime(CLOCK_MONOTONIC, &c->t0);
  if (c->stop_early && all_violated(c)) set_stop(c, 4);
  if (c->workers > 1) pthread_barrier_init(&c->bar, 0, (unsigned)c->workers);
  for (int k = 0; k < c->workers; k++) { c->w[k].c = c; c->w[k].id = k; }
  for (int k = 1; k < c->workers; k++)
    pthread_create(&c->w[k].th, 0, worker_main, &c->w[k]);
  worker_main(&c->w[0]);
  for (int k = 1; k < c->workers; k++) pthread_join(c->w[k].th, 0);
  if (c->workers > 1) pthread_barrier_destroy(&c->bar);
  return c->stop_reason;
}

void fp_stop(void *h) { set_stop((ctx_t *)h, 1); }

/* out: states, frontier end, depth, bytes, transitions, expanded, peak bytes, reduced
   states, visited-set bytes, bytes of links on disk (approximate while running) */
void fp_poll(void *h, uint64_t *out) {
  ctx_t *c = h;
  out[0] = atomic_load(&c->count);
  out[1] = c->hi;
  out[2] = c->depth;
  out[3] = atomic_load(&c->bytes);
  uint64_t t = 0, e = 0;
  for (int k = 0; k < c->workers; k++) { t += c->w[k].transitions; e += c->w[k].expanded; }
  out[4] = t;
  out[5] = e;
  out[6] = atomic_load(&c->peak_bytes);
  uint64_t r = 0;
  for (int k = 0; k < c->workers; k++) r += c->w[k].reduced;
  out[7] = r;
  out[8] = atomic_load(&c->table_bytes);
  out[9] = c->disk_bytes;
}

void fp_counts(void *h, uint64_t *fired, uint64_t *failed) {
  ctx_t *c = h;
  for (int k = 0; k < c->workers; k++) {
    for (int a = 0; a < NREALACT; a++) fired[a] += c->w[k].fired[a];
    for (int v = 0; v < NCHECK; v++) failed[v] += c->w[k].failed[v];
  }
}

/* kind: 0 kernel_asserts, 1 check k, 2 guard k, 3 invariant k, 4 deadlock, 5 model error.
   out: set, state (the pre-state of a transition, or the state itself), action, combo. */
double fp_rec(void *h, int kind, int k, uint64_t *out) {
  ctx_t *c = h;
  rec_t *r = kind == 0 ? &c->ka : kind == 1 ? &c->chk[k] : kind == 2 ? &c->grd[k]
           : kind == 3 ? &c->inv[k] : kind == 4 ? &c->dead : &c->err;
  out[0] = (uint64_t)r->set; out[1] = r->idx; out[2] = (uint64_t)(int64_t)r->aid;
  out[3] = r->combo;
  return r->t;
}

int fp_link(void *h, uint64_t idx, uint64_t *out) {
  ctx_t *c = h;
  link_t *l = link_at(c, idx), buf;
  if (!l && c->lnf && (idx >> CH_BITS) < c->ln_flushed) {
    if (fseeko(c->lnf, (off_t)(idx * sizeof(link_t)), SEEK_SET) != 0
        || fread(&buf, sizeof buf, 1, c->lnf) != 1)
      return 0;
    l = &buf;
  }
  if (!l) return 0;
  out[0] = l->parent; out[1] = l->aid; out[2] = l->combo;
  return 1;
}

int fp_state(void *h, uint64_t idx, uint64_t *out) {
  uint8_t *s = state_at((ctx_t *)h, idx);
  if (!s) return 0;
  unpack_st(s, out);
  return 1;
}

/* The states the search looks for (n of them, NW words each, before fp_run; exact mode
   only): it stops, stop reason 7, once all are stored. */
int fp_targets(void *h, const uint64_t *t, int n) {
  ctx_t *c = h;
  if (c->compact || n < 1) return 0;
  c->targets = malloc((size_t)n * NW * sizeof(uint64_t));
  if (!c->targets) return 0;
  memcpy(c->targets, t, (size_t)n * NW * sizeof(uint64_t));
  c->ntargets = n;
  return 1;
}

/* The number of state n if the search stored it, else -1 (exact mode; after fp_run). */
int64_t fp_find(void *h, const uint64_t *n) {
  ctx_t *c = h;
  if (c->compact) return -1;
  return lookup(c, n, hash_state(n));
}

/* The stored state with the fewest fields differing from t (after fp_run, exact mode):
   field k is bits [shift[k], shift[k] + width) of word[k], masked by mask[k].  Returns
   that number of fields (-1 without states) and the state's number in *best; ties go to
   the lowest number, i.e. the first found in BFS order. */
int fp_nearest(void *h, const uint64_t *t, const uint16_t *word, const uint8_t *shift,
               const uint64_t *mask, int nf, uint64_t *best) {
  ctx_t *c = h;
  if (c->compact) return -1;
  uint64_t cnt = atomic_load(&c->count), n[NW > 0 ? NW : 1];
  int bestd = -1;
  for (uint64_t i = 0; i < cnt && bestd != 0; i++) {
    uint8_t *s = state_at(c, i);
    if (!s) continue;
    unpack_st(s, n);
    int d = 0;
    for (int k = 0; k < nf && (bestd < 0 || d < bestd); k++)
      d += ((n[word[k]] ^ t[word[k]]) >> shift[k] & mask[k]) != 0;
    if (bestd < 0 || d < bestd) { bestd = d; *best = i; }
  }
  return bestd;
}

void fp_free(void *h) {
  ctx_t *c = h;
  if (!c) return;
  free(c->targets);
  for (uint64_t k = 0; k < MAXCH; k++) { free(atomic_load(&c->st[k])); free(atomic_load(&c->ln[k])); }
  for (uint64_t k = 0; k < c->nsub; k++) free(c->subs[k].slots);
  free(c->subs);
  for (size_t k = 0; k < c->nretired; k++) free(c->retired[k]);
  free(c->retired);
  for (int k = 0; k < c->workers; k++) {
    for (int q = 0; q < PIPE; q++) {
      succ_t *b = &c->w[k].q[q];
      free(b->memo.keys); free(b->memo.slot);
      free(b->sn); free(b->sh); free(b->sinfo); free(b->scombo);
      free(b->svoff); free(b->snv); free(b->sv);
    }
  }
  free(c->w);
  if (c->lnf) fclose(c->lnf);
  free(c);
}

#ifdef FPCHECK_PGO_GENERATE
/* The profile-guided build's training library only (build.py): write gcc's counters now,
 * while the library is still loaded (ctypes never unloads it, and the counters are
 * otherwise written at process exit). */
extern void __gcov_dump(void);
void fp_pgo_dump(void) { __gcov_dump(); }
#endif
