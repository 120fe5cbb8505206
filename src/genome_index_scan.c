/*-------------------------------------------------------------------------
 *
 * genome_index_scan.c
 *		ecs_genome index: the ordered scan (ORDER BY genome <~> query).
 *
 * A scan returns entries in ascending lower bound, in batches.  One pass
 * reads every page (share lock, one page at a time), bounds every entry
 * with the kernel (genome_code.c) and keeps the B entries of smallest key
 * greater than the last key returned, where key = (bound, block, slot) is
 * unique; the batch is then sorted and returned with xs_recheckorderby, so
 * the executor computes exact distances and reorders (results are exact
 * whatever the bounds, as long as they are lower bounds in ascending
 * order).  If the executor wants more than a batch (a LIMIT past it, or
 * filters rejecting candidates), the next pass keeps 4B entries, and so on
 * up to ECS_GI_BATCH_MAX: memory is bounded by that, passes grow
 * geometrically.
 *
 * Concurrency: entries never move (VACUUM frees slots in place), so keys
 * are stable between passes; a slot reused after the scan started holds an
 * entry whose heap tuple the scan's MVCC snapshot cannot see, so it is
 * harmless whether or not it is returned.  Only MVCC snapshots are
 * accepted (an ordering scan always has one).
 *
 * IDENTIFICATION
 *		src/genome_index_scan.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/mman.h>

#include "access/relscan.h"
#include "ecs_agents.h"
#include "genome_index.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#define ECS_GI_BATCH_FIRST	64
#define ECS_GI_BATCH_MAX	65536

/*
 * A pass bounds its first entries with the byte codes, then switches to the
 * fast scan (cache only).  Entries the fast scan cannot rule out cost a
 * scattered read of their byte codes, and the pass's cutoff, the B-th best
 * bound so far, is loose at first: about B ln(N / start) of them get read.
 * Starting after 32k entries saves more of those reads than the slower
 * kernel costs over the first entries.
 */
#define ECS_GI_FAST_AFTER	32768

/*
 * The cache's entries are bounded a chunk at a time (a multiple of the
 * fast scan's block of 32 rows); the scan's per-chunk arrays hold a page's
 * slots or a chunk, whichever is more.
 */
#define ECS_GI_CHUNK		1024
#define ECS_GI_SCAN_ROWS	Max(ECS_GI_CHUNK, ECS_GI_SLOTS)
StaticAssertDecl(ECS_GI_CHUNK % ECS_GI_FAST_ROWS == 0, "chunks are whole fast-scan blocks");

typedef struct GiCandidate
{
	uint64		key;			/* bound << 32 | block << 10 | slot */
	ItemPointerData tid;
} GiCandidate;

typedef struct GiScan
{
	MemoryContext cxt;			/* query and candidates, reset per rescan */
	bool		started;
	bool		qnull;			/* NULL query: every entry, distance NULL */
	ArrayType  *qarr;			/* copy of the query */
	EcsGenomeQuery q;
	int			batch;			/* B */
	GiCandidate *cand;			/* [2B] */
	int			ncand;
	int			next;			/* next to return */
	bool		more;			/* a further pass may find entries */
	bool		has_low;
	uint64		low;			/* keys returned so far are <= low */
	BlockNumber nblocks;		/* pages when the scan started */
	struct GiCache *cache;		/* the backend cache the scan reads, or NULL */
	uint64		cutoff;			/* of the pass: keys at or above it are out */
	bool		full;			/* the pass dropped entries */
	int64		seen;			/* entries the pass has bounded */
	int			skip;			/* classes the scan keys rule out (bit per class) */
	EcsGenomeFastLut lut;		/* fast-scan tables (cache only) */
	uint16		idx[ECS_GI_SCAN_ROWS];	/* one page's or chunk's entries below the cutoff */
	uint32		bounds[ECS_GI_SCAN_ROWS];
} GiScan;

StaticAssertDecl(ECS_GI_SLOTS <= 1024, "slot numbers take 10 bits of a key");

static int
cand_cmp(const void *a, const void *b)
{
	uint64		x = ((const GiCandidate *) a)->key;
	uint64		y = ((const GiCandidate *) b)->key;

	return x < y ? -1 : (x > y ? 1 : 0);
}

IndexScanDesc
ecs_gi_beginscan(Relation r, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(r, nkeys, norderbys);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_genome scan",
											  ALLOCSET_DEFAULT_SIZES);
	GiScan	   *so = palloc0(sizeof(GiScan));

	if (norderbys != 1)
		elog(ERROR, "an ecs_genome index answers only ORDER BY genome <~> query");
	so->cxt = cxt;
	scan->opaque = so;
	scan->xs_orderbyvals = palloc0(sizeof(Datum));
	scan->xs_orderbynulls = palloc(sizeof(bool));
	scan->xs_orderbynulls[0] = true;
	return scan;
}

void
ecs_gi_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
			  ScanKey orderbys, int norderbys)
{
	GiScan	   *so = (GiScan *) scan->opaque;
	MemoryContext cxt = so->cxt;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(cxt);
	memset(so, 0, offsetof(GiScan, idx));
	so->cxt = cxt;
}

/*
 * Rearrange c[0..n) so that c[0..k) holds its k smallest keys (in any
 * order); returns the largest of them.  Quickselect: O(n) on average.
 */
static uint64
select_smallest(GiCandidate *c, int n, int k)
{
	int			lo = 0,
				hi = n - 1;
	uint64		max = 0;
	int			i;

	while (lo < hi)
	{
		uint64		pivot = c[lo + (hi - lo) / 2].key;
		int			l = lo,
					r = hi;

		while (l <= r)
		{
			while (c[l].key < pivot)
				l++;
			while (c[r].key > pivot)
				r--;
			if (l <= r)
			{
				GiCandidate t = c[l];

				c[l] = c[r];
				c[r] = t;
				l++;
				r--;
			}
		}
		if (k - 1 <= r)
			hi = r;
		else if (k - 1 >= l)
			lo = l;
		else
			break;
	}
	for (i = 0; i < k; i++)
		max = Max(max, c[i].key);
	return max;
}

/*
 * The backend cache: a copy of one index's live entries in local memory,
 * so that a scan streams contiguous memory instead of locking every page
 * through the buffer manager.  It is valid while the metapage's change
 * counter is the one read before the copy and read again after it (an
 * insert bumps the counter in the WAL record of its page change, under the
 * metapage lock; VACUUM bumps it when done, and the slots it frees only
 * hold dead tuples' TIDs).  A scan checks the counter under the metapage
 * share lock when it starts; it builds a cache only when the counter did
 * not move since the previous scan of that index in this backend (a stable
 * index), so a write-heavy index is scanned through its buffers.  Scans
 * pin the cache they read (a reset callback on their memory unpins it,
 * also on error); a replaced cache is freed when its last scan is done.
 *
 * The copy holds the entries grouped by class (genome_index.h), each group
 * in index order: codes, their fast-scan blocks (genome_code.c: 4-bit
 * codes, 32 entries a block), heap TIDs and locations (block << 10 | slot,
 * the low half of a scan's key); entries without codes are listed apart
 * (their bound is 0).  A scan whose keys rule out a class skips its group
 * whole: a mate search of one sex reads half the codes.  Memory: about 34
 * bytes per entry (34 MB per million rows), one cache per backend, none
 * for indexes past ECS_GI_CACHE_MAX.
 */
#define ECS_GI_CACHE_MAX	((Size) 1 << 30)
#define ECS_GI_CACHE_ENTRY_BYTES \
	(ECS_GI_CODES + ECS_GI_CODES / 2 + sizeof(ItemPointerData) + sizeof(uint32))

typedef struct GiCacheGroup
{
	int			n;				/* entries with codes */
	uint8	   *codes;			/* [n][ECS_GI_CODES] */
	uint8	   *fast;			/* their fast-scan blocks */
	uint32	   *locs;			/* [n] block << 10 | slot */
	ItemPointerData *tids;		/* [n] */
	int			nnocode;		/* entries without codes */
	uint32	   *nocode_locs;
	ItemPointerData *nocode_tids;
} GiCacheGroup;

typedef struct GiCache
{
	MemoryContext cxt;
	RelFileNode node;
	uint64		changes;
	BlockNumber nblocks;		/* pages of the index when copied */
	int			pins;
	bool		current;		/* still the backend's cache */
	GiCacheGroup groups[ECS_GI_NCLASSES];
} GiCache;

/* the backend's cache, and the counter its index had at the last scan */
static GiCache *gi_cache = NULL;
static RelFileNode gi_seen_node;
static uint64 gi_seen_changes = PG_UINT64_MAX;

static void
cache_release(GiCache *c)
{
	if (--c->pins == 0 && !c->current)
		MemoryContextDelete(c->cxt);
}

static void
cache_unpin_callback(void *arg)
{
	cache_release((GiCache *) arg);
}

static void
cache_drop(void)
{
	if (gi_cache == NULL)
		return;
	gi_cache->current = false;
	if (gi_cache->pins == 0)
		MemoryContextDelete(gi_cache->cxt);
	gi_cache = NULL;
}

/*
 * Ask for huge pages under a large array of the cache (where the system
 * gives them on request): the scans stream it and read survivors' codes at
 * random, and 4 kB pages cost a TLB miss every 4 kB.
 */
static void *
alloc_cache_array(MemoryContext cxt, Size size)
{
	char	   *p = MemoryContextAllocHuge(cxt, Max(size, 1));

#ifdef MADV_HUGEPAGE
	{
		const uintptr_t huge = (uintptr_t) 2 * 1024 * 1024;
		uintptr_t	start = ((uintptr_t) p + huge - 1) & ~(huge - 1);
		uintptr_t	end = ((uintptr_t) p + size) & ~(huge - 1);

		if (end > start)
			(void) madvise((void *) start, end - start, MADV_HUGEPAGE);
	}
#endif
	return p;
}

/*
 * Read every data page once, share-locked one at a time: with fill false,
 * count each group's entries into the groups; with fill true, copy them
 * into the groups' arrays (sized by the count).  false when an array would
 * overflow (the index changed between the two reads: the counter check
 * then fails anyway).
 */
static bool
cache_read_pages(Relation index, BlockNumber nblocks, GiCacheGroup *g, bool fill)
{
	BlockNumber blk;
	int			pos[ECS_GI_NCLASSES] = {0};
	int			nocode[ECS_GI_NCLASSES] = {0};
	int			k;

	for (blk = ECS_GI_METAPAGE_BLKNO + 1; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;
		const uint8 *states;
		int			nused,
					i;

		CHECK_FOR_INTERRUPTS();
		buf = ecs_gi_read_data_page(index, blk);
		if (!BufferIsValid(buf))
			continue;
		page = BufferGetPage(buf);
		states = EcsGiStates(page);
		nused = EcsGiOpaque(page)->nused;
		for (i = 0; i < nused; i++)
		{
			uint8		st = states[i];
			uint32		loc = (blk << 10) | (uint32) i;

			if (st == ECS_GI_SLOT_FREE)
				continue;
			k = ECS_GI_SLOT_CLASS(st);
			if (ECS_GI_STATE(st) == ECS_GI_SLOT_CODED)
			{
				if (fill)
				{
					if (pos[k] >= g[k].n)
					{
						UnlockReleaseBuffer(buf);
						return false;
					}
					memcpy(g[k].codes + (Size) pos[k] * ECS_GI_CODES,
						   EcsGiCodes(page) + (Size) i * ECS_GI_CODES, ECS_GI_CODES);
					g[k].locs[pos[k]] = loc;
					g[k].tids[pos[k]] = EcsGiTids(page)[i];
				}
				pos[k]++;
			}
			else
			{
				if (fill)
				{
					if (nocode[k] >= g[k].nnocode)
					{
						UnlockReleaseBuffer(buf);
						return false;
					}
					g[k].nocode_locs[nocode[k]] = loc;
					g[k].nocode_tids[nocode[k]] = EcsGiTids(page)[i];
				}
				nocode[k]++;
			}
		}
		UnlockReleaseBuffer(buf);
	}
	for (k = 0; k < ECS_GI_NCLASSES; k++)
	{
		if (!fill)
		{
			g[k].n = pos[k];
			g[k].nnocode = nocode[k];
		}
		else if (pos[k] != g[k].n || nocode[k] != g[k].nnocode)
			return false;
	}
	return true;
}

/*
 * cache_build
 *		Copy the index's live entries; NULL if the counter moved meanwhile
 *		(the copy may then miss an entry) or the index is too large.
 */
static GiCache *
cache_build(Relation index, uint64 changes, BlockNumber nblocks)
{
	MemoryContext cxt;
	GiCache    *c;
	Buffer		metabuf;
	uint64		after;
	int			k;

	if ((Size) nblocks * ECS_GI_SLOTS * ECS_GI_CACHE_ENTRY_BYTES > ECS_GI_CACHE_MAX)
		return NULL;
	/* under the caller's memory until complete: an error frees it */
	cxt = AllocSetContextCreate(CurrentMemoryContext, "ecs_genome cache", ALLOCSET_DEFAULT_SIZES);
	c = MemoryContextAllocZero(cxt, sizeof(GiCache));
	c->cxt = cxt;
	c->node = index->rd_node;
	c->changes = changes;
	c->nblocks = nblocks;
	c->current = true;
	cache_read_pages(index, nblocks, c->groups, false);
	for (k = 0; k < ECS_GI_NCLASSES; k++)
	{
		GiCacheGroup *g = &c->groups[k];

		g->codes = alloc_cache_array(cxt, (Size) g->n * ECS_GI_CODES);
		g->fast = alloc_cache_array(cxt, (Size) ECS_GI_FAST_BLOCKS(g->n) * ECS_GI_FAST_BYTES);
		g->locs = MemoryContextAllocHuge(cxt, sizeof(uint32) * Max(g->n, 1));
		g->tids = MemoryContextAllocHuge(cxt, sizeof(ItemPointerData) * Max(g->n, 1));
		g->nocode_locs = MemoryContextAlloc(cxt, sizeof(uint32) * Max(g->nnocode, 1));
		g->nocode_tids = MemoryContextAlloc(cxt, sizeof(ItemPointerData) * Max(g->nnocode, 1));
	}
	if (!cache_read_pages(index, nblocks, c->groups, true))
	{
		MemoryContextDelete(cxt);
		return NULL;
	}
	for (k = 0; k < ECS_GI_NCLASSES; k++)
		ecs_genome_fast_pack(c->groups[k].codes, c->groups[k].n, c->groups[k].fast);

	metabuf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	after = EcsGiMeta(BufferGetPage(metabuf))->changes;
	UnlockReleaseBuffer(metabuf);
	if (after != changes)
	{
		MemoryContextDelete(cxt);
		return NULL;
	}
	MemoryContextSetParent(cxt, TopMemoryContext);
	return c;
}

/*
 * Offer the entry of key (bound << 32 | location) to the pass: kept when
 * below the cutoff and above the keys already returned; when 2B are kept,
 * the B smallest stay and the cutoff drops to the largest of them.
 */
static inline void
pass_offer(GiScan *so, uint64 key, ItemPointerData tid)
{
	if (key >= so->cutoff || (so->has_low && key <= so->low))
		return;
	so->cand[so->ncand].key = key;
	so->cand[so->ncand].tid = tid;
	if (++so->ncand == 2 * so->batch)
	{
		so->cutoff = select_smallest(so->cand, so->ncand, so->batch);
		so->ncand = so->batch;
		so->full = true;
	}
}

/* a NULL query: all n entries pass, bound 0 */
static int
pass_every_entry(GiScan *so, int n)
{
	int			m;

	for (m = 0; m < n; m++)
	{
		so->bounds[m] = 0;
		so->idx[m] = (uint16) m;
	}
	return n;
}

/*
 * The entries of one page (from a buffer: n slots, some maybe free, of
 * any class) whose key is below the pass's cutoff and above so->low go to
 * the candidates; those of a class the scan keys rule out do not.
 */
static void
pass_page(GiScan *so, BlockNumber blk, int n, bool regular, const uint8 *codes,
		  const uint8 *states, const ItemPointerData *tids)
{
	int			m,
				j;

	if (so->qnull)
	{
		/* every slot, bound 0; free ones are skipped below */
		m = pass_every_entry(so, n);
		regular = false;
	}
	else
		m = ecs_genome_bounds_below(&so->q, codes, n,
									regular ? (uint32) (so->cutoff >> 32) : PG_UINT32_MAX,
									so->bounds, so->idx);
	so->seen += n;
	for (j = 0; j < m; j++)
	{
		int			i = so->idx[j];
		uint64		bound = so->bounds[j];

		if (!regular)
		{
			if (states[i] == ECS_GI_SLOT_FREE)
				continue;
			if (ECS_GI_STATE(states[i]) == ECS_GI_SLOT_NOCODE)
				bound = 0;
		}
		if (so->skip & (1 << ECS_GI_SLOT_CLASS(states[i])))
			continue;
		pass_offer(so, (bound << 32) | ((uint64) blk << 10) | (uint64) i, tids[i]);
	}
}

/*
 * The entries of one chunk of a cache group (n coded entries), bounded by
 * the byte kernel for the pass's first ECS_GI_FAST_AFTER entries and by
 * the fast scan after that.
 */
static void
pass_chunk(GiScan *so, int n, const uint8 *codes, const uint8 *fast,
		   const uint32 *locs, const ItemPointerData *tids)
{
	int			m,
				j;

	if (so->qnull)
		m = pass_every_entry(so, n);
	else if (so->seen >= ECS_GI_FAST_AFTER)
		m = ecs_genome_fast_below(&so->q, &so->lut, fast, codes, n,
								  (uint32) (so->cutoff >> 32), so->bounds, so->idx);
	else
		m = ecs_genome_bounds_below(&so->q, codes, n, (uint32) (so->cutoff >> 32),
									so->bounds, so->idx);
	so->seen += n;
	for (j = 0; j < m; j++)
		pass_offer(so, ((uint64) so->bounds[j] << 32) | locs[so->idx[j]], tids[so->idx[j]]);
}

/*
 * One pass: keep the B entries of smallest key above so->low, sorted.
 * Sets so->more when there may be entries beyond them.
 */
static void
gi_pass(IndexScanDesc scan, GiScan *so)
{
	Relation	index = scan->indexRelation;
	BlockNumber blk;

	so->ncand = 0;
	so->next = 0;
	so->cutoff = PG_UINT64_MAX;
	so->full = false;
	so->seen = 0;
	if (so->cache)
	{
		int			k;

		for (k = 0; k < ECS_GI_NCLASSES; k++)
		{
			const GiCacheGroup *g = &so->cache->groups[k];
			int			start,
						i;

			if (so->skip & (1 << k))
				continue;
			for (start = 0; start < g->n; start += ECS_GI_CHUNK)
			{
				if ((start & (64 * ECS_GI_CHUNK - 1)) == 0)
					CHECK_FOR_INTERRUPTS();
				pass_chunk(so, Min(ECS_GI_CHUNK, g->n - start),
						   g->codes + (Size) start * ECS_GI_CODES,
						   g->fast + (Size) (start / ECS_GI_FAST_ROWS) * ECS_GI_FAST_BYTES,
						   g->locs + start, g->tids + start);
			}
			for (i = 0; i < g->nnocode; i++)
				pass_offer(so, (uint64) g->nocode_locs[i], g->nocode_tids[i]);
		}
	}
	else
	{
		for (blk = ECS_GI_METAPAGE_BLKNO + 1; blk < so->nblocks; blk++)
		{
			Buffer		buf;
			Page		page;
			EcsGiPageOpaque *o;

			CHECK_FOR_INTERRUPTS();
			buf = ecs_gi_read_data_page(index, blk);
			if (!BufferIsValid(buf))
				continue;
			page = BufferGetPage(buf);
			o = EcsGiOpaque(page);
			pass_page(so, blk, o->nused, EcsGiPageRegular(o), EcsGiCodes(page),
					  EcsGiStates(page), EcsGiTids(page));
			UnlockReleaseBuffer(buf);
		}
	}
	if (so->ncand > so->batch)
	{
		select_smallest(so->cand, so->ncand, so->batch);
		so->ncand = so->batch;
		so->full = true;
	}
	qsort(so->cand, so->ncand, sizeof(GiCandidate), cand_cmp);
	so->more = so->full;
}

/*
 * The classes the scan keys rule out.  A key is "second column <!> s",
 * false only when the entry's value equals s (neither NULL): s = 'female'
 * rules out the class holding exactly 'female', and so on.  The other
 * class holds mixed values, so a key never rules it out; the executor
 * rechecks the keys on every row returned (xs_recheck).
 */
static int
scan_skip(IndexScanDesc scan)
{
	int			skip = 0;
	int			i;

	for (i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		key = &scan->keyData[i];
		int			k;

		if (key->sk_attno != 2 || key->sk_strategy != 1 ||
			(key->sk_flags & (SK_ROW_HEADER | SK_SEARCHARRAY | SK_SEARCHNULL | SK_SEARCHNOTNULL)))
			elog(ERROR, "unexpected scan key for an ecs_genome index");
		if (key->sk_flags & SK_ISNULL)
			continue;			/* x <!> NULL holds for every x */
		k = ecs_gi_text_class(key->sk_argument, false);
		if (k != ECS_GI_CLASS_OTHER)
			skip |= 1 << k;
	}
	return skip;
}

/* first call after a rescan: parse the query, size the scan, find a cache */
static void
gi_start(IndexScanDesc scan, GiScan *so)
{
	Relation	index = scan->indexRelation;
	ScanKey		key = &scan->orderByData[0];
	MemoryContext oldcxt;
	Buffer		metabuf;
	EcsGiMetaData *meta;
	uint64		changes;

	if (!IsMVCCSnapshot(scan->xs_snapshot))
		elog(ERROR, "an ecs_genome index scan needs an MVCC snapshot");
	oldcxt = MemoryContextSwitchTo(so->cxt);
	if (key->sk_flags & SK_ISNULL)
		so->qnull = true;
	else
	{
		so->qarr = DatumGetArrayTypePCopy(key->sk_argument);
		ecs_genome_query_parse(so->qarr, &so->q);
	}
	so->skip = scan_skip(scan);
	so->batch = ECS_GI_BATCH_FIRST;
	so->cand = palloc(sizeof(GiCandidate) * 2 * so->batch);
	MemoryContextSwitchTo(oldcxt);

	/* pages and change counter, consistent: extension happens under the metapage lock */
	metabuf = ReadBuffer(index, ECS_GI_METAPAGE_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_SHARE);
	meta = EcsGiMeta(BufferGetPage(metabuf));
	if (meta->magic != ECS_GI_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" has no valid metapage", RelationGetRelationName(index)),
				 errhint("Please REINDEX it.")));
	changes = meta->changes;
	so->nblocks = RelationGetNumberOfBlocks(index);
	UnlockReleaseBuffer(metabuf);
	if (so->nblocks > ((BlockNumber) 1 << 22))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index \"%s\" has too many pages for an ordered scan",
						RelationGetRelationName(index)),
				 errdetail("An ecs_genome index scan handles at most %u pages.", (BlockNumber) 1 << 22)));

	if (ecs_genome_index_cache)
	{
		bool		stable = RelFileNodeEquals(gi_seen_node, index->rd_node) &&
			gi_seen_changes == changes;
		bool		fits = false;

		if (gi_cache && RelFileNodeEquals(gi_cache->node, index->rd_node))
		{
			if (gi_cache->changes == changes && gi_cache->nblocks == so->nblocks)
				fits = true;
			else
				cache_drop();	/* stale */
		}
		if (!fits && stable)
		{
			GiCache    *c = cache_build(index, changes, so->nblocks);

			if (c)
			{
				cache_drop();
				gi_cache = c;
				fits = true;
			}
		}
		gi_seen_node = index->rd_node;
		gi_seen_changes = changes;
		if (fits)
		{
			MemoryContextCallback *cb = MemoryContextAlloc(so->cxt, sizeof(MemoryContextCallback));

			so->cache = gi_cache;
			gi_cache->pins++;
			cb->func = cache_unpin_callback;
			cb->arg = gi_cache;
			MemoryContextRegisterResetCallback(so->cxt, cb);
		}
	}
	so->started = true;
	pgstat_count_index_scan(index);
	gi_pass(scan, so);
}

/*
 * ecs_gi_gettuple
 *		Next heap TID in ascending lower bound of the distance.
 */
bool
ecs_gi_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	GiScan	   *so = (GiScan *) scan->opaque;
	GiCandidate *c;

	if (!so->started)
		gi_start(scan, so);
	while (so->next >= so->ncand)
	{
		if (!so->more)
			return false;
		so->low = so->cand[so->ncand - 1].key;
		so->has_low = true;
		if (so->batch < ECS_GI_BATCH_MAX)
		{
			so->batch *= 4;
			so->cand = repalloc(so->cand, sizeof(GiCandidate) * 2 * so->batch);
		}
		gi_pass(scan, so);
	}
	c = &so->cand[so->next++];
	scan->xs_heaptid = c->tid;
	scan->xs_recheck = scan->numberOfKeys > 0;
	if (so->qnull)
	{
		scan->xs_orderbyvals[0] = (Datum) 0;
		scan->xs_orderbynulls[0] = true;
		scan->xs_recheckorderby = false;
	}
	else
	{
		scan->xs_orderbyvals[0] = Float8GetDatum((double) (c->key >> 32) * so->q.bound_scale);
		scan->xs_orderbynulls[0] = false;
		scan->xs_recheckorderby = true;
	}
	return true;
}

void
ecs_gi_endscan(IndexScanDesc scan)
{
	GiScan	   *so = (GiScan *) scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
}
